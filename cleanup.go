package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Defaults of the cleanup settings, GoodJob's.
const (
	CleanupPreservedJobsBeforeDefault = 14 * 24 * time.Hour
	CleanupIntervalJobsDefault        = 1000
	CleanupIntervalDefault            = 10 * time.Minute
	CleanupBatchSizeDefault           = 1000
)

// CleanupOptions says what one [Client.Cleanup] deletes. The zero value
// deletes what the Client's automatic cleanup would, discarded jobs too.
type CleanupOptions struct {
	// Before is the cutoff: jobs that finished before it are deleted.
	// Default: Config.CleanupPreservedJobsBefore ago, or 14 days ago when
	// that is negative.
	Before time.Time

	// BatchSize is how many rows one statement deletes at most. Default 1000.
	BatchSize int

	// KeepDiscarded keeps jobs that finished with an error (and batches
	// with discarded jobs); only succeeded ones are deleted.
	KeepDiscarded bool

	// SkipIfBusy makes Cleanup return at once, with Skipped set, when
	// another process is cleaning. Without it, each batch waits for the
	// other process's batch in flight to commit, and then both go on.
	SkipIfBusy bool
}

// CleanupResult counts what a [Client.Cleanup] deleted.
type CleanupResult struct {
	Before     time.Time // the cutoff used, UTC
	Jobs       int       // good_jobs rows
	Executions int       // good_job_executions rows of those jobs
	Batches    int       // good_job_batches rows
	// Skipped reports that Cleanup stopped early, with SkipIfBusy, because
	// another process held the cleanup lock.
	Skipped bool
}

// Cleanup deletes finished jobs older than the cutoff, with their
// executions, and finished batches, in batches of opts.BatchSize rows per
// transaction until none is left or ctx ends. Unfinished jobs, whatever
// their age, are never deleted. Each transaction takes a transaction-scoped
// advisory lock, so processes cleaning at the same time take turns instead
// of scanning the same rows, and no lock is held between batches. It
// returns what it deleted, also when it stops with an error. There is no
// CleanupTx: a pass commits once per batch, so that it never holds the
// locks of many rows at once, which the caller's transaction would.
func (c *Client) Cleanup(ctx context.Context, opts CleanupOptions) (CleanupResult, error) {
	p, err := c.cleanupParams(opts)
	res := CleanupResult{Before: p.Before}
	if err != nil {
		return res, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("goodjob: clean up: %w", err)
		}
		n, err := jobsql.CleanupBatch(ctx, c.db, p)
		if errors.Is(err, jobsql.ErrCleanupBusy) {
			res.Skipped = true
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("goodjob: %w", err)
		}
		res.Jobs += n.Jobs
		res.Executions += n.Executions
		res.Batches += n.Batches
		if c.cleanupBatchHook != nil {
			c.cleanupBatchHook(n.Jobs)
		}
		if n.Jobs < p.Limit && n.Batches < p.Limit {
			return res, nil
		}
	}
}

// cleanupParams checks opts and fills in their defaults.
func (c *Client) cleanupParams(opts CleanupOptions) (jobsql.CleanupParams, error) {
	p := jobsql.CleanupParams{
		Before: opts.Before.UTC(), Limit: opts.BatchSize,
		IncludeDiscarded: !opts.KeepDiscarded, Wait: !opts.SkipIfBusy,
	}
	if p.Limit < 0 {
		return p, fmt.Errorf("goodjob: clean up: CleanupOptions.BatchSize is %d, want 0 or more",
			p.Limit)
	}
	if p.Limit == 0 {
		p.Limit = CleanupBatchSizeDefault
	}
	if opts.Before.IsZero() {
		keep := c.cfg.CleanupPreservedJobsBefore
		if keep < 0 {
			keep = CleanupPreservedJobsBeforeDefault
		}
		p.Before = c.now().UTC().Add(-keep)
	}
	return p, nil
}

// cleanupTrigger counts the attempts this Client completed and wakes the
// automatic cleanup every Config.CleanupIntervalJobs of them.
type cleanupTrigger struct {
	every int64 // 0: never by count
	count atomic.Int64
	kick  chan struct{}
}

func newCleanupTrigger(every int) *cleanupTrigger {
	return &cleanupTrigger{every: int64(max(every, 0)), kick: make(chan struct{}, 1)}
}

// add counts n completed attempts.
func (t *cleanupTrigger) add(n int) {
	if t.every > 0 && t.count.Add(int64(n)) >= t.every {
		signal(t.kick)
	}
}

// autoCleanup runs a cleanup pass whenever the trigger fires or
// Config.CleanupInterval passes since the last pass, until ctx ends. Each
// process runs its own; a pass that finds another process cleaning skips
// its turn, so whichever process gets there first does the work.
func (c *Client) autoCleanup(ctx context.Context, t *cleanupTrigger) {
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
	)
	if c.cfg.CleanupInterval > 0 {
		ticker = time.NewTicker(c.cfg.CleanupInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	logger := c.logger.With(slog.String("component", "cleanup"))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-t.kick:
		}
		t.count.Store(0)
		c.cleanupPass(ctx, logger)
		if ticker != nil {
			ticker.Reset(c.cfg.CleanupInterval)
		}
	}
}

// cleanupPass runs one automatic cleanup and logs its outcome.
func (c *Client) cleanupPass(ctx context.Context, logger *slog.Logger) {
	res, err := c.Cleanup(ctx, CleanupOptions{
		KeepDiscarded: c.cfg.CleanupKeepDiscarded, SkipIfBusy: true,
	})
	attrs := []any{slog.Int("jobs", res.Jobs), slog.Int("executions", res.Executions),
		slog.Int("batches", res.Batches), slog.Time("before", res.Before)}
	switch {
	case err != nil:
		if ctx.Err() == nil {
			logger.Warn("clean up finished jobs", append(attrs, slog.Any(keyError, err))...)
		}
	case res.Jobs > 0 || res.Batches > 0:
		logger.Info("cleaned up finished jobs", attrs...)
	case res.Skipped:
		logger.Debug("cleanup skipped, another process is cleaning")
	default:
		logger.Debug("cleanup found nothing to delete", attrs...)
	}
}

// cleanupEnabled reports whether a started Client runs automatic cleanup.
func (cfg Config) cleanupEnabled() bool {
	return cfg.CleanupPreservedJobsBefore >= 0 &&
		(cfg.CleanupIntervalJobs > 0 || cfg.CleanupInterval > 0)
}
