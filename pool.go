package goodjob

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// upcomingLimit bounds the scheduled times a pool remembers.
const upcomingLimit = 64

// pool is one ";"-separated part of the queue string: a set of queues and
// a number of goroutines that claim and run their jobs.
type pool struct {
	c      *Client
	rs     *runState
	spec   poolSpec
	logger *slog.Logger

	running atomic.Int32
	wake    chan struct{} // a job may be due now
	freed   chan struct{} // a goroutine finished a job
	rearm   chan struct{} // upcoming changed its earliest time

	mu       sync.Mutex
	upcoming []time.Time // sorted future scheduled times, deduplicated
}

func newPool(c *Client, rs *runState, spec poolSpec) *pool {
	return &pool{
		c: c, rs: rs, spec: spec,
		logger: c.logger.With(slog.String("component", "pool"), slog.String("pool", spec.String())),
		wake:   make(chan struct{}, 1),
		freed:  make(chan struct{}, 1),
		rearm:  make(chan struct{}, 1),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// notify tells the pool that a job in queue is due at at. An empty queue
// with a zero time wakes every pool (an unreadable payload, a reconnect).
func (p *pool) notify(queue string, at time.Time, any bool) {
	if !any && !p.spec.matches(queue) {
		return
	}
	if at.IsZero() || !at.After(p.c.now()) {
		signal(p.wake)
		return
	}
	p.remember(at)
}

// remember adds a future scheduled time to the pool's cache.
func (p *pool) remember(ts ...time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := time.Time{}
	if len(p.upcoming) > 0 {
		first = p.upcoming[0]
	}
	for _, t := range ts {
		i, found := slices.BinarySearchFunc(p.upcoming, t, time.Time.Compare)
		if !found && i < upcomingLimit {
			p.upcoming = slices.Insert(p.upcoming, i, t)
		}
	}
	if len(p.upcoming) > upcomingLimit {
		p.upcoming = p.upcoming[:upcomingLimit]
	}
	if len(p.upcoming) > 0 && !p.upcoming[0].Equal(first) {
		signal(p.rearm)
	}
}

// nextDue drops the cached times that have come and returns the earliest
// remaining one, and whether any had come.
func (p *pool) nextDue(now time.Time) (next time.Time, due bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(p.upcoming) && !p.upcoming[i].After(now) {
		i++
	}
	p.upcoming = p.upcoming[i:]
	if len(p.upcoming) > 0 {
		next = p.upcoming[0]
	}
	return next, i > 0
}

// run claims and starts jobs until ctx ends. It claims when woken, on every
// poll and at cached scheduled times, and keeps claiming as slots free up
// for as long as the last claim filled every slot it asked for.
func (p *pool) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var poll <-chan time.Time
	if d := p.c.cfg.PollInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		poll = t.C
	}
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	p.refreshUpcoming(ctx)
	st := loopState{fetch: true}
	for ctx.Err() == nil {
		free := p.spec.Size - int(p.running.Load())
		switch {
		case !st.fetch || st.backoff > 0 || free <= 0 || st.gathering != nil:
		case !st.gathered && p.gatherFirst(free):
			gather.Reset(claimGather)
			st.gathering = gather.C
		default:
			p.fill(ctx, &st, free)
		}
		p.arm(timer, st.backoff)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			st.fetch = true
		case <-p.freed:
		case <-st.gathering:
			st.gathering, st.gathered = nil, true
		case <-p.rearm:
		case <-timer.C:
			if st.backoff > 0 {
				st.backoff = 0
				st.fetch = true
			}
			if _, due := p.nextDue(p.c.now()); due {
				st.fetch = true
			}
		case <-poll:
			st.fetch = true
			p.refreshUpcoming(ctx)
		}
	}
}

// loopState is what the claim loop remembers between wake-ups.
type loopState struct {
	fetch     bool             // the last claim filled every slot: there may be more
	backoff   time.Duration    // after a failed claim, wait this long
	failures  int              // claims failed in a row
	gathering <-chan time.Time // waiting for more slots to free up
	gathered  bool             // waited already: claim now
}

// fill claims jobs for free slots and records the outcome in st.
func (p *pool) fill(ctx context.Context, st *loopState, free int) {
	st.gathered = false
	n, err := p.claim(ctx, free)
	switch {
	case err != nil && ctx.Err() == nil:
		st.failures++
		st.backoff = claimBackoff(st.failures)
		p.logger.Warn("claim jobs", slog.Any("error", err), slog.Duration("retry_in", st.backoff))
	case err == nil:
		st.failures = 0
		st.fetch = n == free
	}
}

// claimBackoff doubles the wait after each failed claim in a row, from
// 100ms up to 5s, so a restarting server is not hammered by every pool.
func claimBackoff(failures int) time.Duration {
	return min(100*time.Millisecond<<min(failures-1, 6), 5*time.Second)
}

// claimGather is how long a busy pool waits for more of its slots to free
// up before it claims. A claim costs about as much for one job as for
// fifty, so with short jobs finishing one by one, claiming for each freed
// slot would spend the database on claims; waiting a moment lets one claim
// fill many slots. A pool with half or more of its slots free, or with
// nothing running, claims at once.
const claimGather = time.Millisecond

// gatherFirst reports whether to wait claimGather before claiming for free
// slots.
func (p *pool) gatherFirst(free int) bool {
	return free*2 < p.spec.Size && p.running.Load() > 0
}

// arm sets timer for the claim retry or the earliest cached time.
func (p *pool) arm(timer *time.Timer, backoff time.Duration) {
	d := time.Hour
	if backoff > 0 {
		d = backoff
	} else if next, due := p.nextDue(p.c.now()); due {
		d = 0
	} else if !next.IsZero() {
		d = time.Until(next)
	}
	timer.Reset(max(d, 0))
}

// claim locks up to n jobs and starts them, returning how many it got.
func (p *pool) claim(ctx context.Context, n int) (int, error) {
	now := p.c.now().UTC()
	kinds, paused := p.rs.claimable()
	if len(kinds) == 0 {
		return 0, nil
	}
	params := jobsql.ClaimParams{
		ProcessID: p.c.processID, Now: now, Limit: n, Kinds: kinds,
		Queues: p.spec.Queues, Exclude: p.spec.Exclude, Ordered: p.spec.Ordered,
		Gated: p.rs.gated,
	}
	if paused != nil {
		params.PausedQueues, params.PausedLabels = paused.Queues, paused.Labels
	}
	jobs, err := jobsql.Claim(ctx, p.c.db, params)
	if err != nil {
		return 0, err
	}
	if len(jobs) > 0 {
		p.logger.Debug("claimed jobs", slog.Int("jobs", len(jobs)))
	}
	for i := range jobs {
		p.start(&jobs[i], now)
	}
	return len(jobs), nil
}

// refreshUpcoming caches the scheduled times due before the next poll.
func (p *pool) refreshUpcoming(ctx context.Context) {
	now := p.c.now().UTC()
	horizon := p.c.cfg.PollInterval
	if horizon <= 0 {
		horizon = PollIntervalDefault
	}
	ts, err := jobsql.Upcoming(ctx, p.c.db, jobsql.UpcomingParams{
		Now: now, Until: now.Add(horizon), Limit: upcomingLimit, Kinds: p.rs.kinds,
		Queues: p.spec.Queues, Exclude: p.spec.Exclude,
	})
	if err != nil {
		if ctx.Err() == nil {
			p.logger.Warn("list upcoming jobs", slog.Any("error", err))
		}
		return
	}
	p.remember(ts...)
}

// start runs one claimed job on its own goroutine. The slot stays taken
// until Work returns, even past a timeout, so a job that ignores its
// context never runs beside more jobs than the pool allows.
func (p *pool) start(j *jobsql.ClaimedJob, startedAt time.Time) {
	p.running.Add(1)
	p.rs.track(j.ID)
	p.rs.jobs.Add(1)
	go func() {
		defer p.rs.jobs.Done()
		comp := p.c.admitAndExecute(p.rs.workCtx, j, startedAt)
		p.rs.completer.add(comp)
		p.running.Add(-1)
		signal(p.freed)
	}()
}
