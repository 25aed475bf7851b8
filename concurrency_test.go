package goodjob_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// tenantArgs is a job whose concurrency key can come from its args.
type tenantArgs struct {
	Tenant string `json:"tenant"`
	N      int    `json:"n"`
}

func (tenantArgs) Kind() string { return "TenantJob" }

func tenantKey(a goodjob.Args) string { return "tenant:" + a.(tenantArgs).Tenant }

// putBackMsg is the debug message of a job over a perform-side limit.
const putBackMsg = "concurrency limit reached, putting the job back"

// countHandler counts the records with one message, at every level, and
// passes records at Warn and above to the test's log.
type countHandler struct {
	msg string
	n   *atomic.Int64
	t   testing.TB
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	if r.Level >= slog.LevelWarn {
		h.t.Log(r.Level, r.Message)
	}
	return nil
}

func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// noopWorker runs NoopJob and succeeds.
var noopWorker = goodjob.WorkFunc[noopArgs](func(context.Context, *goodjob.Job[noopArgs]) error {
	return nil
})

// gauge tracks how many Work calls run at once and the most it saw.
// reached is closed once the most reaches limit.
type gauge struct {
	cur, max atomic.Int64
	limit    int64
	once     sync.Once
	reached  chan struct{}
}

func newGauge(limit int) *gauge {
	return &gauge{limit: int64(limit), reached: make(chan struct{})}
}

func (g *gauge) enter() {
	n := g.cur.Add(1)
	for m := g.max.Load(); n > m && !g.max.CompareAndSwap(m, n); m = g.max.Load() {
	}
	if n >= g.limit {
		g.once.Do(func() { close(g.reached) })
	}
}

func (g *gauge) leave() { g.cur.Add(-1) }

// latch waits until ch is closed, or d has passed, and reports which.
func latch(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// waitAllFinished waits until no job of the schema is unfinished.
func waitAllFinished(t testing.TB, pool *pgxpool.Pool, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := pool.QueryRow(context.Background(),
			"SELECT count(*) FROM good_jobs WHERE finished_at IS NULL").Scan(&n)
		return err == nil && n == 0
	}, within, 20*time.Millisecond)
}

// startWorkers starts n Clients on pool, each with eight goroutines, that
// run w with the kind's Concurrency option.
func startWorkers[T goodjob.Args](t *testing.T, pool *pgxpool.Pool, n int, w goodjob.Worker[T],
	cc goodjob.ConcurrencyConfig, putBacks *atomic.Int64) {
	t.Helper()
	for range n {
		c := newClient(t, pool, goodjob.Config{
			MaxThreads: 8, PollInterval: 200 * time.Millisecond,
			Logger: slog.New(countHandler{msg: putBackMsg, n: putBacks, t: t}),
		})
		require.NoError(t, goodjob.Register(c, w, goodjob.Concurrency(cc)))
		start(t, c)
	}
}

func TestConcurrency_PerformLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	const jobs, limit = 40, 2
	cc := goodjob.ConcurrencyConfig{PerformLimit: limit}

	producer := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(producer, noopWorker,
		goodjob.Concurrency(cc)))
	params := noopParams(jobs)
	_, err := producer.EnqueueMany(ctx, params)
	require.NoError(t, err)

	g := newGauge(limit)
	var putBacks atomic.Int64
	work := goodjob.WorkFunc[noopArgs](func(context.Context, *goodjob.Job[noopArgs]) error {
		g.enter()
		defer g.leave()
		// The first jobs hold on until the limit is reached, so the test
		// always has jobs running at the limit while others are claimed.
		latch(g.reached, 5*time.Second)
		time.Sleep(10 * time.Millisecond) // the job's work
		return nil
	})
	startWorkers(t, db.Pool, 3, work, cc, &putBacks)
	waitAllFinished(t, db.Pool, time.Minute)

	require.LessOrEqual(t, g.max.Load(), int64(limit), "Work calls at once")
	require.Equal(t, int64(limit), g.max.Load(), "the limit was reached: the test can fail")
	require.Positive(t, putBacks.Load(), "jobs over the limit were put back")

	// The database agrees: at the start of each attempt, no more than the
	// limit were between their start and their end.
	var overlap int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT max((SELECT count(*)
		FROM good_job_executions o
		WHERE o.created_at <= e.created_at AND o.finished_at > e.created_at))
		FROM good_job_executions e`).Scan(&overlap))
	require.LessOrEqual(t, overlap, limit)

	// Put-backs left no trace: one execution per job, none failed, no
	// attempt counted.
	var rows, execs, failed, badCounts, key int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*),
		(SELECT count(*) FROM good_job_executions),
		(SELECT count(*) FROM good_job_executions WHERE error IS NOT NULL),
		count(*) FILTER (WHERE executions_count <> 1
			OR (serialized_params->>'executions')::int <> 0 OR error IS NOT NULL),
		count(*) FILTER (WHERE concurrency_key = 'NoopJob')
		FROM good_jobs`).Scan(&rows, &execs, &failed, &badCounts, &key))
	require.Equal(t, jobs, rows)
	require.Equal(t, jobs, execs)
	require.Zero(t, failed)
	require.Zero(t, badCounts)
	require.Equal(t, jobs, key, "the key defaults to the kind")
}

// raceEnqueue has 8 goroutines on each of clients enqueue perGoroutine
// jobs at once, half of them through EnqueueTx, and returns how many were
// written. Every refusal must match ErrConcurrencyLimit.
func raceEnqueue(t *testing.T, pool *pgxpool.Pool, clients []*goodjob.Client,
	perGoroutine int) int {
	t.Helper()
	ctx := t.Context()
	var (
		ok, refused atomic.Int64
		wg          sync.WaitGroup
		ready       = make(chan struct{})
	)
	for ci, c := range clients {
		for gi := range 8 {
			wg.Go(func() {
				<-ready
				for i := range perGoroutine {
					args := noopArgs{N: (ci*8+gi)*perGoroutine + i}
					err := enqueueMaybeTx(ctx, pool, c, args, i%2 == 1)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, goodjob.ErrConcurrencyLimit):
						refused.Add(1)
					default:
						t.Errorf("enqueue: %v", err)
					}
				}
			})
		}
	}
	close(ready)
	wg.Wait()
	require.Equal(t, int64(len(clients)*8*perGoroutine), ok.Load()+refused.Load())
	return int(ok.Load())
}

// enqueueMaybeTx enqueues args with Enqueue, or with EnqueueTx in a
// transaction that commits on success and rolls back on error.
func enqueueMaybeTx(ctx context.Context, pool *pgxpool.Pool, c *goodjob.Client,
	args goodjob.Args, inTx bool) error {
	if !inTx {
		_, err := c.Enqueue(ctx, args)
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := c.EnqueueTx(ctx, tx, args)
		return err
	})
}

func TestConcurrency_EnqueueSideLimitsUnderRace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cc   goodjob.ConcurrencyConfig
	}{
		{"EnqueueLimit", goodjob.ConcurrencyConfig{EnqueueLimit: 5}},
		{"TotalLimit", goodjob.ConcurrencyConfig{TotalLimit: 5}},
		{"EnqueueThrottle", goodjob.ConcurrencyConfig{
			EnqueueThrottle: goodjob.Throttle{Count: 5, Period: time.Hour}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := testdb.New(t)
			clients := make([]*goodjob.Client, 3)
			for i := range clients {
				clients[i] = newClient(t, db.Pool, goodjob.Config{})
				require.NoError(t, goodjob.Register(clients[i],
					noopWorker, goodjob.Concurrency(tc.cc)))
			}
			written := raceEnqueue(t, db.Pool, clients, 3)
			require.Equal(t, 5, written)
			var n int
			require.NoError(t, db.Pool.QueryRow(t.Context(),
				"SELECT count(*) FROM good_jobs").Scan(&n))
			require.Equal(t, 5, n, "refused enqueues wrote nothing")
		})
	}
}

func TestConcurrency_EnqueueLimitErrorAndBatch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, noopWorker,
		goodjob.Concurrency(goodjob.ConcurrencyConfig{EnqueueLimit: 3})))

	_, err := c.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 1}}, {Args: noopArgs{N: 2}}, {Args: otherArgs{Name: "free"}}})
	require.NoError(t, err)
	_, err = c.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 3}}, {Args: noopArgs{N: 4}}, {Args: otherArgs{Name: "lost"}}})
	require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit, "2 + 2 is over 3")
	var limitErr *goodjob.ConcurrencyLimitError
	require.ErrorAs(t, err, &limitErr)
	require.Equal(t, "NoopJob", limitErr.Kind)
	require.Equal(t, "EnqueueLimit", limitErr.Limit)

	var names []string
	rows, err := db.Pool.Query(ctx, `SELECT job_class || coalesce(':' || concurrency_key, '')
		FROM good_jobs ORDER BY 1`)
	require.NoError(t, err)
	names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"NoopJob:NoopJob", "NoopJob:NoopJob", "OtherJob"}, names,
		"the refused batch wrote none of its jobs")

	row, err := c.Enqueue(ctx, noopArgs{N: 5})
	require.NoError(t, err, "one more fits")
	require.Equal(t, "NoopJob", row.ConcurrencyKey)
	_, err = c.Enqueue(ctx, noopArgs{N: 6})
	require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit)

	// A REPEATABLE READ transaction cannot see concurrent enqueues.
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = c.EnqueueTx(ctx, tx, noopArgs{N: 7})
	require.ErrorContains(t, err, "READ COMMITTED")
}

// holdWorker reports each job's start on started and returns once
// release is closed.
func holdWorker(started chan<- int, release <-chan struct{}) goodjob.Worker[noopArgs] {
	return goodjob.WorkFunc[noopArgs](func(_ context.Context, j *goodjob.Job[noopArgs]) error {
		started <- j.Args.N
		<-release
		return nil
	})
}

// TestConcurrency_RunningJobs checks what each enqueue-side limit counts:
// TotalLimit counts a running job, EnqueueLimit does not.
func TestConcurrency_RunningJobs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		cc            goodjob.ConcurrencyConfig
		fitsOnceMoved bool
	}{
		{"TotalLimit", goodjob.ConcurrencyConfig{TotalLimit: 2}, false},
		{"EnqueueLimit", goodjob.ConcurrencyConfig{EnqueueLimit: 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := testdb.New(t)
			started := make(chan int, 4)
			release := make(chan struct{})
			c := newClient(t, db.Pool, goodjob.Config{MaxThreads: 1})
			require.NoError(t, goodjob.Register(c, holdWorker(started, release),
				goodjob.Concurrency(tc.cc)))
			for i := range 2 {
				_, err := c.Enqueue(ctx, noopArgs{N: i})
				require.NoError(t, err)
			}
			_, err := c.Enqueue(ctx, noopArgs{N: 9})
			require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit)

			start(t, c)
			waitFor(t, started, 10*time.Second, "a job to start")
			_, err = c.Enqueue(ctx, noopArgs{N: 2})
			if tc.fitsOnceMoved {
				require.NoError(t, err, "the running job left the queue")
			} else {
				require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit, "the running job counts")
			}
			close(release)
			waitAllFinished(t, db.Pool, 10*time.Second)
			_, err = c.Enqueue(ctx, noopArgs{N: 3})
			require.NoError(t, err, "finished jobs do not count")
		})
	}
}

func TestConcurrency_KeyFromArgs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	key := func(a goodjob.Args) string {
		if a.(tenantArgs).Tenant == "" {
			return ""
		}
		return tenantKey(a)
	}
	const limit = 1
	cc := goodjob.ConcurrencyConfig{Key: key, EnqueueLimit: 3, PerformLimit: limit}
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[tenantArgs](func(context.Context, *goodjob.Job[tenantArgs]) error { return nil }),
		goodjob.Concurrency(cc)))

	for _, tenant := range []string{"a", "b"} {
		for i := range 3 {
			row, err := c.Enqueue(ctx, tenantArgs{Tenant: tenant, N: i})
			require.NoError(t, err, "tenant %s job %d", tenant, i)
			require.Equal(t, "tenant:"+tenant, row.ConcurrencyKey)
		}
		_, err := c.Enqueue(ctx, tenantArgs{Tenant: tenant, N: 3})
		require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit, "tenant %s", tenant)
	}
	for i := range 4 {
		row, err := c.Enqueue(ctx, tenantArgs{N: i})
		require.NoError(t, err, "a job without a key is not limited")
		require.Empty(t, row.ConcurrencyKey)
	}

	// Each key runs one job at a time, the two keys run side by side, and
	// keyless jobs are not limited. Latches prove the last two: the first
	// job of each key waits for one of the other key to start, and keyless
	// jobs wait for all four to be running; a limit shared by mistake would
	// keep them waiting until they fail.
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{}),
		"": make(chan struct{})}
	var (
		mu      sync.Mutex
		running = map[string]int{}
		most    = map[string]int{}
		keyless int
	)
	work := goodjob.WorkFunc[tenantArgs](func(_ context.Context, j *goodjob.Job[tenantArgs]) error {
		t := j.Args.Tenant
		mu.Lock()
		running[t]++
		most[t] = max(most[t], running[t])
		switch t {
		case "":
			if keyless++; keyless == 4 {
				close(started[""])
			}
		default:
			select {
			case <-started[t]:
			default:
				close(started[t])
			}
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			running[t]--
			mu.Unlock()
		}()
		wait := map[string]string{"a": "b", "b": "a", "": ""}[t]
		if !latch(started[wait], 10*time.Second) {
			return errors.New("latch timed out")
		}
		time.Sleep(5 * time.Millisecond) // the job's work
		return nil
	})
	var putBacks atomic.Int64
	startWorkers(t, db.Pool, 2, work, cc, &putBacks)
	waitAllFinished(t, db.Pool, 30*time.Second)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string]int{"a": limit, "b": limit, "": 4}, most)
	var keyedMost, failed int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT coalesce(max((SELECT count(*)
		FROM good_job_executions o JOIN good_jobs g ON g.active_job_id = o.active_job_id
		WHERE g.concurrency_key = k.concurrency_key
			AND o.created_at <= e.created_at AND o.finished_at > e.created_at)), 0),
		(SELECT count(*) FROM good_job_executions WHERE error IS NOT NULL)
		FROM good_job_executions e JOIN good_jobs k ON k.active_job_id = e.active_job_id
		WHERE k.concurrency_key IS NOT NULL`).Scan(&keyedMost, &failed))
	require.Equal(t, limit, keyedMost, "jobs of one key at once, as the database saw them")
	require.Zero(t, failed, "no latch timed out")
	require.Positive(t, putBacks.Load())
}

func TestConcurrency_EnqueueThrottlePeriod(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	clock := goodjob.NewFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	goodjob.UseFakeClock(c, clock)
	require.NoError(t, goodjob.Register(c, noopWorker,
		goodjob.Concurrency(goodjob.ConcurrencyConfig{
			EnqueueThrottle: goodjob.Throttle{Count: 2, Period: time.Minute}})))

	enqueue := func() error { _, err := c.Enqueue(ctx, noopArgs{}); return err }
	require.NoError(t, enqueue())
	clock.Set(clock.Now().Add(30 * time.Second))
	require.NoError(t, enqueue())
	require.ErrorIs(t, enqueue(), goodjob.ErrConcurrencyLimit)
	clock.Set(clock.Now().Add(31 * time.Second))
	require.NoError(t, enqueue(), "the first job left the period")
	require.ErrorIs(t, enqueue(), goodjob.ErrConcurrencyLimit)
}

func TestConcurrency_PerformThrottle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	const jobs, count, period = 9, 3, 400 * time.Millisecond
	cc := goodjob.ConcurrencyConfig{
		PerformThrottle: goodjob.Throttle{Count: count, Period: period}}
	producer := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(producer, noopWorker,
		goodjob.Concurrency(cc)))
	params := noopParams(jobs)
	_, err := producer.EnqueueMany(ctx, params)
	require.NoError(t, err)

	var putBacks atomic.Int64
	startWorkers(t, db.Pool, 3, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error { return nil }), cc, &putBacks)
	waitAllFinished(t, db.Pool, 30*time.Second)

	// Any count+1 consecutive starts, as recorded, span at least a period.
	rows, err := db.Pool.Query(ctx, "SELECT performed_at FROM good_jobs ORDER BY 1")
	require.NoError(t, err)
	starts, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	require.NoError(t, err)
	require.Len(t, starts, jobs)
	require.True(t, slices.IsSortedFunc(starts, time.Time.Compare))
	for i := 0; i+count < len(starts); i++ {
		require.GreaterOrEqual(t, starts[i+count].Sub(starts[i]), period,
			"starts %d and %d", i, i+count)
	}
	require.Positive(t, putBacks.Load())

	var execs, failed int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE error IS NOT NULL) FROM good_job_executions`).
		Scan(&execs, &failed))
	require.Equal(t, jobs, execs)
	require.Zero(t, failed)
}

func TestConcurrency_InvalidConfig(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	for name, cc := range map[string]goodjob.ConcurrencyConfig{
		"NegativeLimit":  {PerformLimit: -1},
		"CountOnly":      {EnqueueThrottle: goodjob.Throttle{Count: 2}},
		"PeriodOnly":     {PerformThrottle: goodjob.Throttle{Period: time.Second}},
		"NegativePeriod": {PerformThrottle: goodjob.Throttle{Count: 1, Period: -time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, db.Pool, goodjob.Config{})
			err := goodjob.Register(c, noopWorker, goodjob.Concurrency(cc))
			require.ErrorContains(t, err, "Concurrency")
		})
	}
}
