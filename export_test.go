package goodjob

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// FakeClock is a clock that moves only when a test moves it. Installed with
// UseFakeClock, it drives a Client's cron scheduler without sleeping.
type FakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers map[chan struct{}]time.Time // woken when now reaches the time
	changed  chan struct{}               // closed when sleepers change
}

// NewFakeClock returns a clock that reads now.
func NewFakeClock(now time.Time) *FakeClock {
	return &FakeClock{now: now, sleepers: make(map[chan struct{}]time.Time),
		changed: make(chan struct{})}
}

// UseFakeClock makes c read f for the time and sleep on f. Call it before
// Start.
func UseFakeClock(c *Client, f *FakeClock) {
	c.now = f.Now
	c.cron.sleep = f.sleepUntil
}

// Now returns the clock's time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t and wakes every sleeper due by then.
func (f *FakeClock) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	for ch, until := range f.sleepers {
		if !until.After(t) {
			close(ch)
			delete(f.sleepers, ch)
		}
	}
	f.signal()
}

// signal tells WaitSleepers that the sleepers changed. f.mu is held.
func (f *FakeClock) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// WaitSleepers blocks until exactly n goroutines sleep on the clock, which
// for the cron scheduler means every entry handled its due ticks.
func (f *FakeClock) WaitSleepers(n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		f.mu.Lock()
		got, changed := len(f.sleepers), f.changed
		f.mu.Unlock()
		if got == n {
			return nil
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("%d sleepers after %s, want %d", got, timeout, n)
		}
	}
}

func (f *FakeClock) sleepUntil(ctx context.Context, until time.Time) error {
	f.mu.Lock()
	if !until.After(f.now) {
		f.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	f.sleepers[ch] = until
	f.signal()
	f.mu.Unlock()

	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		if _, ok := f.sleepers[ch]; ok {
			delete(f.sleepers, ch)
			f.signal()
		}
		f.mu.Unlock()
		return ctx.Err()
	}
}

// CleanupLockClass is the first key of the cleanup lock, as pg_locks shows
// it in classid.
const CleanupLockClass = jobsql.CleanupLockClass

// LockCleanup takes, for the rest of tx, the lock each cleanup batch takes.
func LockCleanup(ctx context.Context, tx pgx.Tx) error {
	return jobsql.CleanupLock(ctx, tx, true)
}

// OnCleanupBatch makes c call f with the number of jobs each cleanup
// statement deleted. Call it before Cleanup or Start.
func OnCleanupBatch(c *Client, f func(jobs int)) { c.cleanupBatchHook = f }

// ListenApplicationName is the LISTEN connection's own application_name.
const ListenApplicationName = listenApplicationName

// ListenApplicationNameOf returns the application_name c's LISTEN
// connection would connect with.
func ListenApplicationNameOf(c *Client) (string, error) {
	cc, err := c.listenConnConfig()
	if err != nil {
		return "", err
	}
	return cc.RuntimeParams["application_name"], nil
}
