package goodjob

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// admitAndExecute runs one claimed job. A keyed job of a kind with
// perform-side limits was claimed without performed_at and must first be
// admitted under its key's lock; one that is not goes back to the queue
// without running. Every other job runs at once, with no extra statement.
func (c *Client) admitAndExecute(ctx context.Context, j *jobsql.ClaimedJob,
	claimedAt time.Time) jobsql.Completion {
	h := c.handler(j.Kind)
	cc := h.cfg.concurrency
	if j.ConcurrencyKey == nil || cc == nil || !cc.performLimited() {
		return c.execute(ctx, j, claimedAt)
	}
	startedAt, ok := c.admit(ctx, j, cc)
	if !ok {
		next := c.now().UTC().Add(concurrencyBackoff +
			rand.N(concurrencyJitter))
		return jobsql.Completion{ID: j.ID, Queue: j.Queue, PutBack: true, NextAt: &next}
	}
	return c.execute(ctx, j, startedAt)
}

// admit checks the perform limit and throttle of j's key and, if the key
// has room, marks j running. It returns the time j started. A job it
// cannot check, because the database failed, is not admitted either: it is
// put back and checked again later.
func (c *Client) admit(ctx context.Context, j *jobsql.ClaimedJob,
	cc *ConcurrencyConfig) (time.Time, bool) {
	a, err := jobsql.Admit(ctx, c.db, jobsql.AdmitParams{
		ID: j.ID, ProcessID: c.processID, Key: *j.ConcurrencyKey,
		Limit: cc.PerformLimit, ThrottleCount: cc.PerformThrottle.Count,
		ThrottlePeriod: cc.PerformThrottle.Period,
	})
	log := c.logger.With(slog.String(keyJobID, j.ID.String()), slog.String(keyKind, j.Kind))
	switch {
	case err != nil:
		if ctx.Err() == nil {
			log.Warn("concurrency check failed, putting the job back", slog.Any(keyError, err))
		}
		return time.Time{}, false
	case a.Lost:
		log.Warn("job no longer locked by this process before it started")
		return time.Time{}, false
	case !a.Admitted:
		log.Debug("concurrency limit reached, putting the job back",
			slog.Int("running", a.Running), slog.Int("perform_limit", cc.PerformLimit),
			slog.Int("started_in_period", a.Started),
			slog.Int("perform_throttle", cc.PerformThrottle.Count))
		return time.Time{}, false
	}
	return a.StartedAt, true
}
