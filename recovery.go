package goodjob

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// ErrInterrupted is the error of a run that never finished because its
// process died or lost its lease: the job is released for another process
// and the run counts as one of its attempts. A job claimed with no attempts
// left is given up with this error instead of running again.
var ErrInterrupted = errors.New("goodjob: job interrupted: its process stopped heartbeating")

// foreignProcessExpiry is how long GoodJob lets its process rows go without
// an update before it treats them as expired (Process::EXPIRED_INTERVAL).
// Rows not written by this library get this long instead of ProcessLease.
const foreignProcessExpiry = 5 * time.Minute

// sweep releases, every HeartbeatInterval until ctx ends, the jobs of dead
// processes: ours whose heartbeat is older than Config.ProcessLease, and
// others (GoodJob's) by GoodJob's own rules (see jobsql.Recover). Every
// started Client sweeps, so recovery needs no leader; concurrent sweeps
// release each job once (see jobsql.Recover).
func (c *Client) sweep(ctx context.Context) {
	logger := c.logger.With(slog.String("component", "recovery"))
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		c.recoverOnce(ctx, logger)
		c.releaseUnknown(ctx, logger)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Client) recoverOnce(ctx context.Context, logger *slog.Logger) {
	now := c.now().UTC()
	r, err := jobsql.Recover(ctx, c.db, jobsql.RecoverParams{
		Self: c.processID, Now: now, StaleBefore: now.Add(-c.cfg.ProcessLease),
		ForeignStaleBefore: now.Add(-foreignProcessExpiry), Scheduler: processScheduler,
		Error: formatError(ErrInterrupted),
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			logger.Warn("recover jobs of dead processes", slog.Any(keyError, err))
		}
	case r.Jobs > 0 || r.Processes > 0:
		logger.Warn("released jobs of dead processes", slog.Int("processes", r.Processes),
			slog.Int("jobs", r.Jobs))
		c.mu.RLock()
		rs := c.run
		c.mu.RUnlock()
		if rs != nil {
			c.wakePools(rs, "", time.Time{}, true)
		}
	}
}

// releaseUnknown releases jobs this process has had locked for longer than
// the lease without running them. That happens when a claim committed but
// its reply was lost with a killed connection: the claim returned an error,
// so no goroutine runs those jobs, and without this they would stay locked
// by a live process forever.
func (c *Client) releaseUnknown(ctx context.Context, logger *slog.Logger) {
	c.mu.RLock()
	rs := c.run
	c.mu.RUnlock()
	if rs == nil {
		return
	}
	now := c.now().UTC()
	ids, err := jobsql.LockedBefore(ctx, c.db, c.processID, now.Add(-c.cfg.ProcessLease))
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("list jobs locked by this process", slog.Any(keyError, err))
		}
		return
	}
	rs.mu.Lock()
	unknown := slices.DeleteFunc(ids, func(id uuid.UUID) bool {
		_, ok := rs.running[id]
		return ok
	})
	rs.mu.Unlock()
	if len(unknown) == 0 {
		return
	}
	n, err := jobsql.Release(ctx, c.db, c.processID, now, unknown)
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("release jobs of a lost claim", slog.Any(keyError, err))
		}
		return
	}
	if err := jobsql.NotifyQueues(ctx, c.db, unknown); err != nil && ctx.Err() == nil {
		logger.Warn("notify queues of released jobs", slog.Any(keyError, err))
	}
	logger.Warn("released jobs of a lost claim", slog.Int("jobs", n))
	c.wakePools(rs, "", time.Time{}, true)
}
