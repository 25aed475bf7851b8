package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

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
	info := newJobInfo(j, attempt)
	comp := jobsql.Completion{
		ID: j.ID, ScheduledAt: j.ScheduledAt, StartedAt: startedAt, Queue: j.Queue,
		BatchID: j.BatchID, BatchCallbackID: j.BatchCallbackID,
	}
	if attempt > h.maxAttempts(c.cfg.Retry, c.rules.rules) {
		// Interrupted runs (a crashed process) counted as attempts and used
		// them all up: the job is given up without running again.
		comp.EndedAt = c.now().UTC()
		c.exhausted(workCtx, &comp, h, info, ErrInterrupted)
		return comp
	}
	ctx, endTrace := c.startTrace(c.withBatch(withRunningJob(workCtx, c, j.ID), j), j, info)
	if d := h.cfg.attemptTimeout(c.cfg.Timeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
		defer c.watchOverrun(ctx, info)()
	}
	err := c.invoke(ctx, h, info, j)
	endTrace(err)
	comp.EndedAt = c.now().UTC()
	c.decide(workCtx, &comp, h, info, err)
	return comp
}

func newJobInfo(j *jobsql.ClaimedJob, attempt int) *JobInfo {
	info := &JobInfo{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, Attempt: attempt, Args: j.Args,
		Labels: j.Labels, ScheduledAt: j.ScheduledAt,
	}
	info.Priority, info.BatchID, info.CronKey, info.CronAt = nullableFields(j)
	return info
}

// nullableFields returns the claimed row's nullable columns as Job and
// JobInfo hold them: zero values for NULL, the cron tick in UTC.
func nullableFields(j *jobsql.ClaimedJob) (priority int, batch uuid.UUID, cronKey string,
	cronAt time.Time) {
	if j.Priority != nil {
		priority = int(*j.Priority)
	}
	if j.BatchID != nil {
		batch = *j.BatchID
	}
	if j.CronKey != nil {
		cronKey = *j.CronKey
	}
	if j.CronAt != nil {
		cronAt = j.CronAt.UTC()
	}
	return priority, batch, cronKey, cronAt
}

// invoke calls the worker inside the middleware chain and turns a panic
// into a *PanicError.
func (c *Client) invoke(ctx context.Context, h *handler, info *JobInfo,
	j *jobsql.ClaimedJob) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: strings.Split(string(debug.Stack()), "\n")}
		}
	}()
	mws := c.cfg.Middleware
	if len(h.cfg.middleware) > 0 {
		mws = append(mws[:len(mws):len(mws)], h.cfg.middleware...)
	}
	next := func(ctx context.Context) error { return h.work(ctx, j, info.Attempt) }
	for i := len(mws) - 1; i >= 0; i-- {
		mw, inner := mws[i], next
		next = func(ctx context.Context) error { return mw(ctx, info, inner) }
	}
	return next(ctx)
}

// decide fills in the outcome of an attempt that returned err. ctx is the
// process's work context: cancelled only when Stop gives up waiting.
func (c *Client) decide(ctx context.Context, comp *jobsql.Completion, h *handler,
	info *JobInfo, err error) {
	var (
		snooze  *snoozeError
		discard *discardError
		panicE  *PanicError
	)
	switch {
	case err == nil:
		comp.Finished = true
		return
	case ctx.Err() != nil:
		// The job did not finish because this process is stopping: it goes
		// back to the queue as it was, for another process to take.
		setError(comp, jobsql.EventInterrupted, "interrupted: "+formatError(err))
		return
	case errors.As(err, &snooze):
		next := comp.EndedAt.Add(snooze.d)
		comp.NextAt = &next
		return
	case errors.As(err, &discard):
		c.discard(ctx, comp, h, info, discard.err, nil)
		return
	}
	if errors.As(err, &panicE) {
		comp.Backtrace = panicE.Stack
	}
	rule := c.rule(h, err)
	if rule != nil && rule.discard {
		c.discard(ctx, comp, h, info, err, rule.onError)
		return
	}
	policy := h.basePolicy(c.cfg.Retry)
	if rule != nil {
		policy = rule.policy
	}
	if info.Attempt >= policy.Attempts {
		c.exhausted(ctx, comp, h, info, err)
		return
	}
	next := comp.EndedAt.Add(policy.wait(info.Attempt))
	comp.NextAt = &next
	comp.CountExecution = true
	setError(comp, jobsql.EventRetried, formatError(err))
	c.logger.Debug("job failed, retrying", slog.String(keyJobID, info.ID.String()),
		slog.String(keyKind, info.Kind), slog.Int(keyAttempt, info.Attempt),
		slog.Time("retry_at", next), slog.Any(keyError, err))
}

// discard ends the job for good with error_event discarded, then calls
// the matching rule's callbacks fns and the OnDiscarded hooks, the kind's
// before the client-wide ones.
func (c *Client) discard(ctx context.Context, comp *jobsql.Completion, h *handler,
	info *JobInfo, err error, fns []JobErrorFunc) {
	comp.Finished = true
	setError(comp, jobsql.EventDiscarded, formatError(err))
	c.logJobError(info, "job discarded", err)
	c.callErrorFuncs(ctx, fns, info, err)
	c.callErrorFuncs(ctx, h.cfg.onDiscarded, info, err)
	c.callErrorFuncs(ctx, c.rules.onDiscarded, info, err)
}

// exhausted gives the job up after its last attempt, with error_event
// retry_stopped, and calls the OnExhausted then the OnDiscarded hooks,
// each the kind's before the client-wide ones.
func (c *Client) exhausted(ctx context.Context, comp *jobsql.Completion, h *handler,
	info *JobInfo, err error) {
	comp.Finished = true
	comp.CountExecution = true
	setError(comp, jobsql.EventRetryStopped, formatError(err))
	c.logJobError(info, "job failed, no attempts left", err)
	c.callErrorFuncs(ctx, h.cfg.onExhausted, info, err)
	c.callErrorFuncs(ctx, c.rules.onExhausted, info, err)
	c.callErrorFuncs(ctx, h.cfg.onDiscarded, info, err)
	c.callErrorFuncs(ctx, c.rules.onDiscarded, info, err)
}

func setError(comp *jobsql.Completion, event int16, text string) {
	comp.Event = &event
	comp.Error = &text
}

func (c *Client) logJobError(info *JobInfo, msg string, err error) {
	c.logger.Warn(msg, slog.String(keyJobID, info.ID.String()), slog.String(keyKind, info.Kind),
		slog.String(keyQueue, info.Queue), slog.Int(keyAttempt, info.Attempt),
		slog.Any(keyError, err))
}

// formatError writes an error as GoodJob stores one, "Class: message". The
// Go type of the outermost error in the chain that is not a plain
// errors.New or fmt.Errorf value stands for the class, since that type is
// what callers match on; "error" stands in when there is none.
func formatError(err error) string {
	return errorClass(err) + ": " + err.Error()
}

func errorClass(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e == ErrInterrupted {
			return "goodjob.ErrInterrupted"
		}
		switch name := fmt.Sprintf("%T", e); name {
		case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		default:
			return name
		}
	}
	return "error"
}
