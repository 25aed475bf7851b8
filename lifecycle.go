package goodjob

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
	"github.com/goodjob-go/goodjob/internal/notifier"
)

// listenReadyTimeout bounds how long Start waits for the first LISTEN. A
// Client whose listener cannot connect still runs, on polling alone.
const listenReadyTimeout = 5 * time.Second

// runState is everything a started Client owns; Stop tears it down.
type runState struct {
	kinds     []string
	gated     []string // kinds with perform-side concurrency limits
	pools     []*pool
	completer *completer
	listener  *notifier.Listener

	loopCtx    context.Context // pools, listener, heartbeat
	loopCancel context.CancelFunc
	workCtx    context.Context // the jobs' contexts; cancelled past Stop's deadline
	workCancel context.CancelFunc
	loops      sync.WaitGroup
	jobs       sync.WaitGroup

	// stopping is closed when Stop begins; jobs read it through Stopping.
	stopping     chan struct{}
	stopStarting sync.Once

	mu      sync.Mutex
	running map[uuid.UUID]struct{} // claimed jobs whose outcome is not queued

	pauses atomic.Pointer[jobsql.Pauses] // reloaded every PollInterval

	cleanup *cleanupTrigger // counts completed attempts
}

func (rs *runState) track(id uuid.UUID) {
	rs.mu.Lock()
	rs.running[id] = struct{}{}
	rs.mu.Unlock()
}

func (rs *runState) untrack(id uuid.UUID) {
	rs.mu.Lock()
	delete(rs.running, id)
	rs.mu.Unlock()
}

// Start registers the process and starts the pools, the listener and the
// heartbeat. ctx bounds the start-up only; call Stop to stop the Client.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != nil {
		return ErrStarted
	}
	var listenConfig *pgx.ConnConfig // nil: no LISTEN connection
	if !c.cfg.DisableListen {
		var err error
		if listenConfig, err = c.listenConnConfig(); err != nil {
			return fmt.Errorf("goodjob: start: %w", err)
		}
	}
	if err := jobsql.RegisterProcess(ctx, c.db, c.processID, c.now().UTC(),
		c.processState()); err != nil {
		return fmt.Errorf("goodjob: start: %w", err)
	}
	rs := &runState{running: make(map[uuid.UUID]struct{}),
		cleanup: newCleanupTrigger(c.cfg.CleanupIntervalJobs)}
	base := context.WithoutCancel(ctx)
	rs.loopCtx, rs.loopCancel = context.WithCancel(base)
	rs.stopping = make(chan struct{})
	rs.workCtx, rs.workCancel = context.WithCancel(withStopping(base, rs.stopping))
	for kind, h := range c.handlers {
		rs.kinds = append(rs.kinds, kind)
		if cc := h.cfg.concurrency; cc != nil && cc.performLimited() {
			rs.gated = append(rs.gated, kind)
		}
	}
	slices.Sort(rs.kinds)
	rs.completer = newCompleter(c, rs)
	c.run = rs
	c.refreshPauses(ctx, rs)

	if listenConfig != nil {
		rs.listener = notifier.New(notifier.Config{
			ConnConfig: listenConfig,
			Channel:    jobsql.Channel,
			Logger:     c.logger.With(slog.String("component", "listener")),
			Notify: func(n notifier.Notification, ok bool) {
				c.wakePools(rs, n.Queue, n.ScheduledAt, !ok)
			},
			Reconnected: func() { c.wakePools(rs, "", time.Time{}, true) },
		})
		c.spawn(rs, func() { rs.listener.Run(rs.loopCtx) })
	}
	go rs.completer.run()
	if len(rs.kinds) > 0 {
		for _, spec := range c.specs {
			p := newPool(c, rs, spec)
			rs.pools = append(rs.pools, p)
			c.spawn(rs, func() { p.run(rs.loopCtx) })
		}
	}
	c.spawn(rs, func() { c.heartbeat(rs.loopCtx) })
	c.spawn(rs, func() { c.watchPauses(rs) })
	c.spawn(rs, func() { c.sweep(rs.loopCtx) })
	c.spawn(rs, func() { c.cron.run(rs.loopCtx) })
	if c.cfg.cleanupEnabled() {
		c.spawn(rs, func() { c.autoCleanup(rs.loopCtx, rs.cleanup) })
	}

	if rs.listener != nil {
		select {
		case <-rs.listener.Ready():
		case <-ctx.Done():
		case <-time.After(listenReadyTimeout):
			c.logger.Warn("listener not ready, relying on polling until it connects")
		}
	}
	c.logger.Info("started", slog.String("process_id", c.processID.String()),
		slog.String("queues", c.cfg.Queues), slog.Any("kinds", rs.kinds))
	return nil
}

// listenApplicationName names the LISTEN connection in pg_stat_activity
// when its configuration names none, as GoodJob names its notifier's.
const listenApplicationName = "goodjob-listener"

// listenConnConfig is the LISTEN connection's configuration: the pool's,
// or Config.ListenConnString's when set (New has validated it).
func (c *Client) listenConnConfig() (*pgx.ConnConfig, error) {
	cc := c.db.Config().ConnConfig.Copy()
	if c.cfg.ListenConnString != "" {
		var err error
		if cc, err = pgx.ParseConfig(c.cfg.ListenConnString); err != nil {
			return nil, fmt.Errorf("parse Config.ListenConnString: %w", err)
		}
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = listenApplicationName
	}
	return cc, nil
}

func (c *Client) spawn(rs *runState, f func()) {
	rs.loops.Add(1)
	go func() {
		defer rs.loops.Done()
		f()
	}()
}

// Flush waits until the wake-ups of earlier Enqueue and EnqueueMany calls
// made outside a transaction have been sent, or until ctx ends. Those calls
// commit their jobs at once but announce them to other processes shortly
// after, coalesced per queue; Stop flushes, so only a program that enqueues
// without ever starting the Client needs Flush before it exits. Without it
// the jobs still run, found by the workers' next poll.
func (c *Client) Flush(ctx context.Context) error {
	c.wakes.flush(ctx)
	return ctx.Err()
}

// Stop stops claiming, waits for running jobs until ctx ends (or, when ctx
// has no deadline, for Config.ShutdownTimeout), then cancels the jobs still
// running and releases their rows so another process takes them at once.
// It returns an error wrapping context.DeadlineExceeded when jobs had to be
// released.
//
// Running jobs learn that Stop has begun through [Stopping].
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	rs := c.run
	c.mu.Unlock()
	if rs == nil {
		return ErrNotStarted
	}
	if _, ok := ctx.Deadline(); !ok && c.cfg.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.ShutdownTimeout)
		defer cancel()
	}
	rs.stopStarting.Do(func() { close(rs.stopping) })
	rs.loopCancel()
	c.wakes.flush(ctx)
	released, err := c.drain(ctx, rs)
	rs.loops.Wait()

	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
	defer cancel()
	// The last completions may have owed wake-ups: jobs retried, snoozed
	// or put back, for other processes to take.
	c.wakes.flush(cleanup)
	if derr := jobsql.DeregisterProcess(cleanup, c.db, c.processID); derr != nil {
		c.logger.Warn("deregister process", slog.Any(keyError, derr))
	}
	c.mu.Lock()
	c.run = nil
	c.mu.Unlock()
	c.logger.Info("stopped", slog.String("process_id", c.processID.String()),
		slog.Int("released", released))
	return err
}

// drain waits for running jobs, then writes their outcomes and releases
// whatever is still locked by this process.
func (c *Client) drain(ctx context.Context, rs *runState) (int, error) {
	done := make(chan struct{})
	go func() {
		rs.jobs.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		rs.workCancel()
		err = fmt.Errorf("goodjob: stop: jobs still running were released: %w",
			context.DeadlineExceeded)
	}
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
	defer cancel()
	rs.completer.close(cleanup)
	rs.workCancel()

	rs.mu.Lock()
	ids := make([]uuid.UUID, 0, len(rs.running))
	for id := range rs.running {
		ids = append(ids, id)
	}
	rs.mu.Unlock()
	if len(ids) == 0 {
		return 0, err
	}
	n, rerr := jobsql.Release(cleanup, c.db, c.processID, c.now().UTC(), ids)
	if rerr == nil && n > 0 {
		rerr = jobsql.NotifyQueues(cleanup, c.db, ids)
	}
	if rerr != nil {
		c.logger.Error("release jobs at stop", slog.Int("jobs", len(ids)),
			slog.Any(keyError, rerr))
	}
	return n, err
}

// heartbeat keeps the process row fresh until ctx ends, re-registering it
// if another process removed it.
func (c *Client) heartbeat(ctx context.Context) {
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alive, err := jobsql.Heartbeat(ctx, c.db, c.processID, c.now().UTC())
		switch {
		case err != nil && ctx.Err() == nil:
			c.logger.Warn("heartbeat", slog.Any(keyError, err))
		case err == nil && !alive:
			c.logger.Warn("process row was removed, registering again")
			if err := jobsql.RegisterProcess(ctx, c.db, c.processID, c.now().UTC(),
				c.processState()); err != nil && ctx.Err() == nil {
				c.logger.Warn("register process", slog.Any(keyError, err))
			}
		}
	}
}

// processScheduler is state->>'scheduler' in the process rows this library
// writes. The recovery sweep gives only such rows the short ProcessLease.
const processScheduler = "goodjob-go"

// processState is the good_job_processes.state document.
func (c *Client) processState() []byte {
	host, _ := os.Hostname()
	threads := 0
	for _, s := range c.specs {
		threads += s.Size
	}
	b, _ := json.Marshal(map[string]any{
		"hostname":   host,
		"pid":        os.Getpid(),
		"proctitle":  os.Args[0],
		"queues":     c.cfg.Queues,
		"threads":    threads,
		"lang":       "go",
		"scheduler":  processScheduler,
		"started_at": c.now().UTC().Format(time.RFC3339Nano),
	})
	return b
}

// wakeLocal tells this Client's own pools about a job it just wrote,
// without waiting for the notification's round trip.
func (c *Client) wakeLocal(queue string, at time.Time) {
	c.mu.RLock()
	rs := c.run
	c.mu.RUnlock()
	if rs != nil {
		c.wakePools(rs, queue, at, false)
	}
}

func (c *Client) wakePools(rs *runState, queue string, at time.Time, all bool) {
	for _, p := range rs.pools {
		p.notify(queue, at, all)
	}
}

// watchPauses reloads the pauses setting every PollInterval, so a pause
// made by another process takes effect here within one poll.
func (c *Client) watchPauses(rs *runState) {
	d := c.cfg.PollInterval
	if d <= 0 {
		d = PollIntervalDefault
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-rs.loopCtx.Done():
			return
		case <-t.C:
			if c.refreshPauses(rs.loopCtx, rs) {
				c.wakePools(rs, "", time.Time{}, true)
			}
		}
	}
}
