package goodjob

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Completion batching: workers hand finished attempts to one writer that
// sends whatever has accumulated as a single statement. Under load that
// makes one round trip for many jobs; when idle a batch is one job and
// adds no delay.
const (
	completeBatchMax     = 1000
	completePendingLimit = 4000 // workers wait beyond this: backpressure
	completeTimeout      = 10 * time.Second
	// completeWriters write batches concurrently: while one statement runs,
	// the next batch is already on its way on another connection.
	completeWriters = 2
)

type completer struct {
	c      *Client
	rs     *runState
	logger *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	pending []jobsql.Completion
	closed  bool

	// ctx ends the writer's retries; Stop cancels it past its deadline.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newCompleter(c *Client, rs *runState) *completer {
	ctx, cancel := context.WithCancel(context.Background())
	cp := &completer{
		c: c, rs: rs, logger: c.logger.With(slog.String("component", "completer")),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	cp.cond = sync.NewCond(&cp.mu)
	return cp
}

// add queues one completion. It reports false once the completer is
// closed; the caller's job then stays locked until Stop releases it. A job
// stays tracked as running until its completion is written, so Stop
// releases the jobs whose outcome never reached the database.
func (cp *completer) add(comp jobsql.Completion) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for len(cp.pending) >= completePendingLimit && !cp.closed {
		cp.cond.Wait()
	}
	if cp.closed {
		return false
	}
	cp.pending = append(cp.pending, comp)
	cp.cond.Broadcast()
	return true
}

// next takes the next batch, waiting for one. It reports false when the
// completer is closed and drained.
func (cp *completer) next() ([]jobsql.Completion, bool) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for len(cp.pending) == 0 && !cp.closed {
		cp.cond.Wait()
	}
	if len(cp.pending) == 0 {
		return nil, false
	}
	n := min(len(cp.pending), completeBatchMax)
	batch := make([]jobsql.Completion, n)
	copy(batch, cp.pending)
	cp.pending = append(cp.pending[:0], cp.pending[n:]...)
	cp.cond.Broadcast()
	return batch, true
}

// run writes batches with completeWriters goroutines until the completer is
// closed and drained.
func (cp *completer) run() {
	defer close(cp.done)
	var wg sync.WaitGroup
	for range completeWriters {
		wg.Go(func() {
			for {
				batch, ok := cp.next()
				if !ok {
					return
				}
				cp.write(batch)
			}
		})
	}
	wg.Wait()
}

// write stores a batch of completions in up to three statements, each
// retried on its own so that one that succeeded is not written twice:
// outcomes of jobs in no batch; outcomes that finish a batch's job, in a
// transaction of their own after the rest, so that waiting on a batch's
// lock never holds up the jobs in no batch; and put-backs of jobs that
// never started.
func (cp *completer) write(batch []jobsql.Completion) {
	var done, back []jobsql.Completion
	for _, comp := range batch {
		if comp.PutBack {
			back = append(back, comp)
		} else {
			done = append(done, comp)
		}
	}
	plain, batched := splitBatched(done)
	n := 0
	if len(plain) > 0 {
		n += cp.retry(plain, cp.complete)
	}
	if len(batched) > 0 {
		n += cp.retry(batched, cp.c.completeBatched)
	}
	cp.rs.cleanup.add(n)
	if len(back) > 0 {
		cp.retry(back, cp.putBack)
	}
}

func (cp *completer) complete(ctx context.Context, cs []jobsql.Completion) (int, error) {
	return jobsql.Complete(ctx, cp.c.db, cp.c.processID, cp.c.now().UTC(), cs)
}

func (cp *completer) putBack(ctx context.Context, cs []jobsql.Completion) (int, error) {
	return jobsql.PutBack(ctx, cp.c.db, cp.c.processID, cp.c.now().UTC(), cs)
}

// retry retries writing a batch until it is written or the completer gives
// up: a job whose outcome is lost stays locked and is released by Stop or
// by the dead-process sweep, so it runs again rather than disappearing. It
// returns how many rows were written.
func (cp *completer) retry(batch []jobsql.Completion,
	write func(context.Context, []jobsql.Completion) (int, error)) int {
	backoff := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(cp.ctx, completeTimeout)
		n, err := write(ctx, batch)
		cancel()
		if err == nil {
			cp.written(batch, n)
			return n
		}
		if cp.ctx.Err() != nil {
			cp.logger.Error("completions not written before shutdown",
				slog.Int("jobs", len(batch)), slog.Any("error", err))
			return 0
		}
		cp.logger.Warn("write completions", slog.Any("error", err),
			slog.Duration("retry_in", backoff))
		select {
		case <-cp.ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// written forgets the jobs of a stored batch, of which n rows were still
// this process's to write.
func (cp *completer) written(batch []jobsql.Completion, n int) {
	for _, comp := range batch {
		cp.rs.untrack(comp.ID)
		if comp.NextAt != nil {
			// A retry, snooze or put-back: let the pools of its queue keep
			// its time, as they would for a job enqueued for later, here
			// and, through the wake sender, in every listening process.
			cp.c.wakePools(cp.rs, comp.Queue, *comp.NextAt, false)
			cp.c.wakes.add(comp.Queue, *comp.NextAt, 1)
		}
	}
	if n < len(batch) {
		cp.logger.Warn("jobs were no longer locked by this process, so their "+
			"outcomes were not written: another process released them after this "+
			"one missed its heartbeats, or an operator force-discarded them",
			slog.Int("lost", len(batch)-n), slog.Int("batch", len(batch)))
	}
}

// close stops accepting completions and waits, until ctx ends, for the
// pending ones to be written.
func (cp *completer) close(ctx context.Context) {
	cp.mu.Lock()
	cp.closed = true
	cp.cond.Broadcast()
	cp.mu.Unlock()
	select {
	case <-cp.done:
	case <-ctx.Done():
		cp.cancel()
		<-cp.done
	}
	cp.cancel()
}
