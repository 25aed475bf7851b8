package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// PanicError is a panic recovered from Work or a Middleware. The job is
// retried like any other error; the stack is stored as error_backtrace.
type PanicError struct {
	Value any
	Stack []string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// execute runs one attempt and returns its outcome for the completer.
func (c *Client) execute(workCtx context.Context, j *jobsql.ClaimedJob,
	startedAt time.Time) jobsql.Completion {
	h := c.handler(j.Kind)
	attempt := int(j.Executions) + 1
	ctx := withRunningJob(workCtx, c, j.ID)
	if h.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.timeout)
		defer cancel()
	}
	err := c.invoke(ctx, h, j, attempt)
	comp := jobsql.Completion{
		ID: j.ID, ScheduledAt: j.ScheduledAt, StartedAt: startedAt, EndedAt: c.now().UTC(),
		Queue: j.Queue,
	}
	c.decide(&comp, h, j, attempt, err, workCtx.Err() != nil)
	return comp
}

// invoke calls the worker inside the middleware chain and turns a panic
// into a *PanicError.
func (c *Client) invoke(ctx context.Context, h *handler, j *jobsql.ClaimedJob,
	attempt int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: strings.Split(string(debug.Stack()), "\n")}
		}
	}()
	mws := c.cfg.Middleware
	if len(h.cfg.middleware) > 0 {
		mws = append(mws[:len(mws):len(mws)], h.cfg.middleware...)
	}
	if len(mws) == 0 {
		return h.work(ctx, j, attempt)
	}
	info := &JobInfo{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, Attempt: attempt, Args: j.Args,
		Labels: j.Labels, ScheduledAt: j.ScheduledAt,
	}
	if j.Priority != nil {
		info.Priority = int(*j.Priority)
	}
	next := func(ctx context.Context) error { return h.work(ctx, j, attempt) }
	for i := len(mws) - 1; i >= 0; i-- {
		mw, inner := mws[i], next
		next = func(ctx context.Context) error { return mw(ctx, info, inner) }
	}
	return next(ctx)
}

// decide fills in the outcome of an attempt that returned err.
func (c *Client) decide(comp *jobsql.Completion, h *handler, j *jobsql.ClaimedJob,
	attempt int, err error, shuttingDown bool) {
	var (
		snooze  *snoozeError
		discard *discardError
		panicE  *PanicError
	)
	switch {
	case err == nil:
		comp.Finished = true
		return
	case shuttingDown:
		// The job did not finish because this process is stopping: it goes
		// back to the queue as it was, for another process to take.
		setError(comp, jobsql.EventInterrupted, "interrupted: "+formatError(err))
		return
	case errors.As(err, &snooze):
		next := comp.EndedAt.Add(snooze.d)
		comp.NextAt = &next
		return
	case errors.As(err, &discard):
		comp.Finished = true
		setError(comp, jobsql.EventDiscarded, formatError(discard.err))
		c.logJobError(j, attempt, "job discarded", err)
		return
	}
	if errors.As(err, &panicE) {
		comp.Backtrace = panicE.Stack
	}
	policy := c.cfg.Retry
	if h.cfg.retry != nil {
		policy = *h.cfg.retry
	}
	if attempt >= policy.Attempts {
		comp.Finished = true
		setError(comp, jobsql.EventRetryStopped, formatError(err))
		c.logJobError(j, attempt, "job failed, no attempts left", err)
		return
	}
	next := comp.EndedAt.Add(policy.wait(attempt))
	comp.NextAt = &next
	comp.CountExecution = true
	setError(comp, jobsql.EventRetried, formatError(err))
	c.logger.Debug("job failed, retrying", slog.String(keyJobID, j.ID.String()),
		slog.String(keyKind, j.Kind), slog.Int(keyAttempt, attempt),
		slog.Time("retry_at", next), slog.Any(keyError, err))
}

func setError(comp *jobsql.Completion, event int16, text string) {
	comp.Event = &event
	comp.Error = &text
}

func (c *Client) logJobError(j *jobsql.ClaimedJob, attempt int, msg string, err error) {
	c.logger.Warn(msg, slog.String(keyJobID, j.ID.String()), slog.String(keyKind, j.Kind),
		slog.String(keyQueue, j.Queue), slog.Int(keyAttempt, attempt), slog.Any(keyError, err))
}

// formatError writes an error as GoodJob stores one, "Class: message", with
// the Go type of the innermost wrapped error standing for the class.
func formatError(err error) string {
	inner := err
	for {
		u := errors.Unwrap(inner)
		if u == nil {
			break
		}
		inner = u
	}
	return fmt.Sprintf("%T: %s", inner, err.Error())
}
