package goodjob

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Propagator carries a trace from the code that enqueues a job to the
// attempts that work it. Package otelgoodjob implements it for
// OpenTelemetry; this package imports no tracing library.
type Propagator interface {
	// Inject returns the trace context of ctx, to be stored with a job
	// enqueued under ctx, or nil when ctx carries none. The Client stores
	// it in serialized_params under "goodjob_trace_context".
	Inject(ctx context.Context) map[string]string

	// Start begins an attempt of job. carrier is what Inject returned at
	// enqueue time, nil if nothing was stored (a job enqueued without a
	// trace, by cron or by GoodJob for Rails). The returned context is the
	// one Middleware and Work receive. The Client calls end when the
	// attempt returns, with its error: nil on success and on a Snooze.
	Start(ctx context.Context, carrier map[string]string,
		job *JobInfo) (_ context.Context, end func(err error))
}

// traced returns opts with the trace context of ctx added, when a
// Propagator is configured and ctx carries a trace.
func (c *Client) traced(ctx context.Context, opts []EnqueueOption) []EnqueueOption {
	if o := c.traceOption(ctx); o != nil {
		return append(slices.Clip(opts), o)
	}
	return opts
}

// traceOption is the option that stores the trace context of ctx, or nil.
func (c *Client) traceOption(ctx context.Context) EnqueueOption {
	if c.cfg.Propagator == nil {
		return nil
	}
	carrier := c.cfg.Propagator.Inject(ctx)
	if len(carrier) == 0 {
		return nil
	}
	return func(ec *enqueueConfig) { ec.traceContext = carrier }
}

// startTrace hands the attempt to the Propagator. A stored trace context
// that is not a flat object of strings is dropped: the attempt then starts
// a trace of its own rather than fail.
func (c *Client) startTrace(ctx context.Context, j *jobsql.ClaimedJob,
	info *JobInfo) (context.Context, func(error)) {
	if c.cfg.Propagator == nil {
		return ctx, func(error) {}
	}
	var carrier map[string]string
	if len(j.TraceContext) > 0 {
		if err := json.Unmarshal(j.TraceContext, &carrier); err != nil {
			c.logger.Warn("unreadable trace context, starting a new trace",
				slog.String(keyJobID, j.ID.String()), slog.Any(keyError, err))
			carrier = nil
		}
	}
	ctx, end := c.cfg.Propagator.Start(ctx, carrier, info)
	return ctx, func(err error) {
		var snooze *snoozeError
		if errors.As(err, &snooze) {
			err = nil
		}
		end(err)
	}
}
