package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// cronStats counts one entry's ticks in this Client.
type cronStats struct {
	enqueued   atomic.Int64
	duplicates atomic.Int64
}

// cronScheduler runs Config.Cron in one Client. Every process runs one;
// the unique index on (cron_key, cron_at) turns all but the first insert of
// a tick into a no-op, so none of them needs to lead.
type cronScheduler struct {
	c       *Client
	entries []*cronEntry
	byKey   map[string]*cronEntry
	grace   time.Duration
	logger  *slog.Logger

	// sleep blocks until the Client's clock reaches until, or returns
	// ctx's error. Tests replace it, with c.now, to drive ticks.
	sleep func(ctx context.Context, until time.Time) error
}

func newCronScheduler(c *Client) (*cronScheduler, error) {
	if c.cfg.CronGracePeriod < 0 {
		return nil, fmt.Errorf("%w: Config.CronGracePeriod is %s, want 0 or more",
			ErrInvalidCron, c.cfg.CronGracePeriod)
	}
	entries, err := parseCronEntries(c.cfg.Cron, func(a Args, opts []EnqueueOption) error {
		_, _, err := c.prepare(a, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &cronScheduler{
		c:       c,
		entries: entries,
		byKey:   make(map[string]*cronEntry, len(entries)),
		grace:   c.cfg.CronGracePeriod,
		logger:  c.logger.With(slog.String("component", "cron")),
	}
	for _, e := range entries {
		s.byKey[e.key] = e
	}
	s.sleep = s.sleepUntil
	return s, nil
}

// sleepUntil waits on a timer and checks the clock again when it fires, in
// case the wall clock moved while the timer ran on the monotonic one.
func (s *cronScheduler) sleepUntil(ctx context.Context, until time.Time) error {
	for {
		d := until.Sub(s.c.now())
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// run schedules every entry until ctx ends.
func (s *cronScheduler) run(ctx context.Context) {
	if len(s.entries) == 0 {
		return
	}
	s.logger.Info("cron started", slog.Int("entries", len(s.entries)),
		slog.Duration("grace_period", s.grace))
	var wg sync.WaitGroup
	for _, e := range s.entries {
		wg.Go(func() { s.runEntry(ctx, e) })
	}
	wg.Wait()
}

// runEntry enqueues each tick of e. It starts one grace period in the past,
// so ticks missed while no process ran are enqueued at once; later ticks
// are enqueued as they come. Each tick follows the previous one, so a slow
// enqueue does not skip the next tick unless it falls out of the grace
// period.
func (s *cronScheduler) runEntry(ctx context.Context, e *cronEntry) {
	prev := s.c.now().Add(-s.grace)
	for {
		next := e.schedule.Next(prev)
		if next.IsZero() {
			s.logger.Warn("cron entry has no further ticks", slog.String(keyCronKey, e.key))
			return
		}
		if err := s.sleep(ctx, next); err != nil {
			return
		}
		s.tick(ctx, e, next)
		prev = next
		if floor := s.c.now().Add(-s.grace); prev.Before(floor) {
			prev = floor
		}
	}
}

// cronEnqueueTimeout bounds the insert of one cron tick.
const cronEnqueueTimeout = 10 * time.Second

// tick enqueues e for the tick at unless the entry is disabled.
func (s *cronScheduler) tick(ctx context.Context, e *cronEntry, at time.Time) {
	log := s.logger.With(slog.String(keyCronKey, e.key), slog.Time(keyCronAt, at.UTC()))
	settings, err := jobsql.LoadCronSettings(ctx, s.c.db)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("cron tick skipped", slog.Any(keyError, err))
		}
		return
	}
	if !e.enabled(settings) {
		log.Debug("cron entry disabled")
		return
	}
	// Once begun, the insert is not cut short by Stop: a statement cancelled
	// after the server committed it would leave a job no counter knows of.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cronEnqueueTimeout)
	defer cancel()
	row, err := s.enqueue(ictx, e, at)
	switch {
	case errors.Is(err, jobsql.ErrDuplicate):
		e.stats.duplicates.Add(1)
		log.Debug("cron tick already enqueued")
	case errors.Is(err, ErrConcurrencyLimit):
		log.Info("cron tick skipped by a concurrency limit", slog.Any(keyError, err))
	case err != nil:
		if ctx.Err() == nil {
			log.Error("cron enqueue", slog.Any(keyError, err))
		}
	case row.Duplicate:
		e.stats.duplicates.Add(1)
		log.Debug("cron tick skipped: its unique key is held",
			slog.String(keyJobID, row.ID.String()))
	default:
		e.stats.enqueued.Add(1)
		log.Debug("cron enqueued", slog.String(keyJobID, row.ID.String()))
	}
}

// enqueue writes one job of e with cron_at = at and wakes the local pools.
// It returns an error wrapping jobsql.ErrDuplicate when the tick exists
// already.
func (s *cronScheduler) enqueue(ctx context.Context, e *cronEntry, at time.Time) (*JobRow, error) {
	row, err := s.insert(ctx, s.c.db, e, at)
	if err != nil {
		return nil, err
	}
	if !row.Duplicate {
		s.c.wakeLocal(row.Queue, row.ScheduledAt)
	}
	return row, nil
}

// insert writes one job of e with cron_at = at through db.
func (s *cronScheduler) insert(ctx context.Context, db jobsql.DBTX, e *cronEntry,
	at time.Time) (*JobRow, error) {
	p, row, err := s.c.prepare(e.entry.Args, e.entry.Options)
	if err != nil {
		return nil, err
	}
	cronAt := at.UTC().Truncate(time.Microsecond) // the column's precision
	p.CronKey, p.CronAt = &e.key, &cronAt
	row.CronKey, row.CronAt = e.key, &cronAt
	row, err = s.c.insert(ctx, db, withPayload(p), row)
	if err != nil {
		return nil, err
	}
	return row, nil
}
