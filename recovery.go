package goodjob

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// ErrInterrupted is the error of a run that never finished because its
// process died or lost its lease: the job is released for another process
// and the run counts as one of its attempts. A job claimed with no attempts
// left is given up with this error instead of running again.
var ErrInterrupted = errors.New("goodjob: job interrupted: its process stopped heartbeating")

// sweep releases, every HeartbeatInterval until ctx ends, the jobs of
// processes whose heartbeat is older than Config.ProcessLease. Every
// started Client sweeps, so recovery needs no leader; concurrent sweeps
// release each job once (see jobsql.Recover).
func (c *Client) sweep(ctx context.Context) {
	logger := c.logger.With(slog.String("component", "recovery"))
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		c.recoverOnce(ctx, logger)
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
