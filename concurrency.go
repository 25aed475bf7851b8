package goodjob

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// ConcurrencyConfig limits how many jobs that share a concurrency key may
// wait and run, as GoodJob's concurrency controls do. Every limit counts
// the jobs of one key across all processes sharing the database; zero
// fields are no limit.
//
// Enqueue-side limits (TotalLimit, EnqueueLimit, EnqueueThrottle) are
// checked by Enqueue and its twins under a transaction-scoped advisory lock
// on the key: a job over one of them is not written, and the call returns
// an error matching [ErrConcurrencyLimit]. Perform-side limits
// (PerformLimit, PerformThrottle) are checked after a job is claimed, under
// the same lock: a job over one of them goes back to the queue a moment
// later, without running and without counting an attempt.
//
// The limits apply to jobs enqueued through a Client on which the kind is
// registered with [Concurrency]: such jobs store their key in
// good_jobs.concurrency_key, and a job without a key is not limited.
// Package goodjobtest's Work and Drain run jobs without the perform-side
// checks.
type ConcurrencyConfig struct {
	// Key returns the concurrency key of a job from its args. It runs once,
	// at enqueue, and the key is kept across retries. An empty result
	// leaves the job outside every limit. Nil uses the kind as the key.
	Key func(args Args) string

	// TotalLimit is the most unfinished jobs of a key: waiting (queued,
	// scheduled or retrying) and running together. 0 is no limit.
	TotalLimit int
	// EnqueueLimit is the most jobs of a key that may wait to run; running
	// jobs do not count. 0 is no limit.
	EnqueueLimit int
	// PerformLimit is the most jobs of a key that may run at once. 0 is no
	// limit.
	PerformLimit int

	// EnqueueThrottle caps how many jobs of a key may be enqueued within
	// any period. The zero value is no throttle.
	EnqueueThrottle Throttle
	// PerformThrottle caps how many attempts of a key's jobs may start
	// within any period. The zero value is no throttle.
	PerformThrottle Throttle
}

// Throttle allows Count events within any Period. Both are positive, or
// both zero for no throttle.
type Throttle struct {
	Count  int
	Period time.Duration
}

// Concurrency limits the jobs of this kind by key; see [ConcurrencyConfig].
func Concurrency(cfg ConcurrencyConfig) WorkerOption {
	return func(c *workerConfig) { c.concurrency = &cfg }
}

// concurrencyBackoff and concurrencyJitter set how long a job over a
// perform-side limit waits before it may be claimed again: the backoff
// plus a random share of the jitter, so that jobs put back together do not
// all come back together.
const (
	concurrencyBackoff = 50 * time.Millisecond
	concurrencyJitter  = 200 * time.Millisecond
)

func (cc *ConcurrencyConfig) validate() error {
	for _, f := range []struct {
		name string
		n    int
	}{{"TotalLimit", cc.TotalLimit}, {"EnqueueLimit", cc.EnqueueLimit},
		{"PerformLimit", cc.PerformLimit}} {
		if f.n < 0 {
			return fmt.Errorf("Concurrency: %s is %d, want 0 or more", f.name, f.n)
		}
	}
	if err := cc.EnqueueThrottle.validate(); err != nil {
		return fmt.Errorf("Concurrency: EnqueueThrottle: %w", err)
	}
	if err := cc.PerformThrottle.validate(); err != nil {
		return fmt.Errorf("Concurrency: PerformThrottle: %w", err)
	}
	return nil
}

func (t Throttle) validate() error {
	switch {
	case t.Count < 0 || t.Period < 0:
		return fmt.Errorf("count %d and period %s, want neither negative", t.Count, t.Period)
	case (t.Count == 0) != (t.Period == 0):
		return fmt.Errorf("count %d and period %s, want both set or both zero",
			t.Count, t.Period)
	}
	return nil
}

// key computes the stored key of one job; "" leaves it without one.
func (cc *ConcurrencyConfig) key(args Args) string {
	if cc.Key == nil {
		return args.Kind()
	}
	return cc.Key(args)
}

// enqueueLimited reports whether enqueues must be checked under the lock.
func (cc *ConcurrencyConfig) enqueueLimited() bool {
	return cc.TotalLimit > 0 || cc.EnqueueLimit > 0 || cc.EnqueueThrottle.Count > 0
}

// performLimited reports whether claimed jobs must be admitted first.
func (cc *ConcurrencyConfig) performLimited() bool {
	return cc.PerformLimit > 0 || cc.PerformThrottle.Count > 0
}

// concurrencyOf returns the kind's controls, nil when it has none.
func (c *Client) concurrencyOf(kind string) *ConcurrencyConfig {
	if h := c.handler(kind); h != nil {
		return h.cfg.concurrency
	}
	return nil
}

// beginner starts a transaction: a pool, or a transaction (a savepoint).
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// withinLimits runs write through db, which is the Client's pool or a
// caller's transaction. Jobs of ps under enqueue-side limits are checked
// first, in the same transaction, holding their keys' locks until it ends;
// without them, write runs alone.
func (c *Client) withinLimits(ctx context.Context, db jobsql.DBTX, ps []jobsql.InsertParams,
	write func(jobsql.DBTX) error) error {
	if !c.anyEnqueueLimited(ps) {
		return write(db)
	}
	check := func(tx pgx.Tx) error {
		if err := c.checkEnqueue(ctx, tx, ps); err != nil {
			return err
		}
		return write(tx)
	}
	if tx, ok := db.(pgx.Tx); ok {
		return check(tx)
	}
	b, ok := db.(beginner)
	if !ok {
		return fmt.Errorf("concurrency limits need a transaction, got %T", db)
	}
	return pgx.BeginFunc(ctx, b, check)
}

func (c *Client) anyEnqueueLimited(ps []jobsql.InsertParams) bool {
	for _, p := range ps {
		if p.ConcurrencyKey == nil {
			continue
		}
		if cc := c.concurrencyOf(p.Kind); cc != nil && cc.enqueueLimited() {
			return true
		}
	}
	return false
}

// keyBatch is the jobs of one call that share a limited key.
type keyBatch struct {
	kind string
	cc   *ConcurrencyConfig
	n    int
}

// checkEnqueue locks the limited keys of ps and checks that writing ps
// keeps each key within its kind's limits. If a key has jobs of several
// kinds in ps, the limits of the first one are used.
func (c *Client) checkEnqueue(ctx context.Context, tx pgx.Tx, ps []jobsql.InsertParams) error {
	batches := make(map[string]*keyBatch)
	for _, p := range ps {
		if p.ConcurrencyKey == nil {
			continue
		}
		cc := c.concurrencyOf(p.Kind)
		if cc == nil || !cc.enqueueLimited() {
			continue
		}
		b := batches[*p.ConcurrencyKey]
		if b == nil {
			b = &keyBatch{kind: p.Kind, cc: cc}
			batches[*p.ConcurrencyKey] = b
		}
		b.n++
	}
	keys := make([]string, 0, len(batches))
	for k := range batches {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := jobsql.LockKeys(ctx, tx, keys); err != nil {
		return err
	}
	now := c.now().UTC()
	for _, k := range keys {
		if err := c.checkKey(ctx, tx, k, batches[k], now); err != nil {
			return err
		}
	}
	return nil
}

// checkKey counts the jobs of key and compares each limit with the count
// plus the b.n jobs about to be written.
func (c *Client) checkKey(ctx context.Context, tx pgx.Tx, key string, b *keyBatch,
	now time.Time) error {
	var since time.Time
	if b.cc.EnqueueThrottle.Count > 0 {
		since = now.Add(-b.cc.EnqueueThrottle.Period)
	}
	n, err := jobsql.CountKey(ctx, tx, key, since)
	if err != nil {
		return err
	}
	over := func(limit, count int) bool { return limit > 0 && count+b.n > limit }
	var name string
	switch {
	case over(b.cc.TotalLimit, n.Unfinished):
		name = "TotalLimit"
	case over(b.cc.EnqueueLimit, n.Waiting):
		name = "EnqueueLimit"
	case over(b.cc.EnqueueThrottle.Count, n.Created):
		name = "EnqueueThrottle"
	default:
		return nil
	}
	// The key is left out: it may be made of the job's args.
	return &ConcurrencyLimitError{Kind: b.kind, Limit: name}
}

// ConcurrencyLimitError reports an enqueue refused by a concurrency limit.
// It matches [ErrConcurrencyLimit] with errors.Is.
type ConcurrencyLimitError struct {
	Kind  string
	Limit string // the ConcurrencyConfig field: TotalLimit, EnqueueLimit, EnqueueThrottle
}

func (e *ConcurrencyLimitError) Error() string {
	return fmt.Sprintf("%s of %s reached", e.Limit, e.Kind)
}

// Is makes errors.Is(err, ErrConcurrencyLimit) hold.
func (e *ConcurrencyLimitError) Is(target error) bool { return target == ErrConcurrencyLimit }
