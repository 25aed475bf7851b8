package goodjob

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// overrunGrace is how long a job may keep running after its context is
// cancelled before it is reported as ignoring the cancellation.
const overrunGrace = 500 * time.Millisecond

// watchOverrun reports a job that keeps running overrunGrace after ctx is
// done: Go cannot stop a goroutine, so such a job keeps its pool slot until
// it returns, and operators should know why the pool runs short. The
// returned func must be called when the job returns; it reports how far
// past its cancellation a reported job ran.
func (c *Client) watchOverrun(ctx context.Context, info *JobInfo) (returned func()) {
	var (
		mu       sync.Mutex
		done     bool
		reported time.Time
		timer    *time.Timer
	)
	cancelledAt := time.Time{}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		cancelledAt = time.Now()
		timer = time.AfterFunc(overrunGrace, func() {
			mu.Lock()
			defer mu.Unlock()
			if done {
				return
			}
			reported = time.Now()
			c.logger.Warn("job ignores its cancelled context; its slot stays taken until it returns",
				c.jobAttrs(info, context.Cause(ctx))...)
		})
	})
	return func() {
		stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		if timer != nil {
			timer.Stop()
		}
		if !reported.IsZero() {
			c.logger.Warn("job returned after ignoring its cancelled context",
				append(c.jobAttrs(info, nil),
					slog.Duration("overrun", time.Since(cancelledAt)))...)
		}
	}
}

// jobAttrs are the log attributes naming a job, and its error if any.
func (c *Client) jobAttrs(info *JobInfo, err error) []any {
	attrs := []any{
		slog.String(keyJobID, info.ID.String()), slog.String(keyKind, info.Kind),
		slog.String(keyQueue, info.Queue), slog.Int(keyAttempt, info.Attempt),
	}
	if err != nil {
		attrs = append(attrs, slog.Any(keyError, err))
	}
	return attrs
}
