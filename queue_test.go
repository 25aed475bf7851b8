package goodjob_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestNew_Errors(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)

	_, err := goodjob.New(nil, goodjob.Config{})
	require.ErrorIs(t, err, goodjob.ErrNilPool)

	for _, q := range []string{"a:0", "a,,b", ";", "a b", "-*"} {
		_, err := goodjob.New(db.Pool, goodjob.Config{Queues: q})
		require.ErrorIs(t, err, goodjob.ErrInvalidQueues, "queues %q", q)
	}

	c := newClient(t, db.Pool, goodjob.Config{})
	work := goodjob.WorkFunc[noopArgs](func(context.Context, *goodjob.Job[noopArgs]) error {
		return nil
	})
	require.NoError(t, goodjob.Register(c, work))
	require.ErrorIs(t, goodjob.Register(c, work), goodjob.ErrDuplicateWorker)
	require.Error(t, goodjob.Register[noopArgs](c, nil))
	require.Error(t, goodjob.Register(c, goodjob.Worker[otherArgs](nil)))
}

func TestEnqueue_Row(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})

	before := time.Now().UTC()
	row, err := c.Enqueue(ctx, otherArgs{Name: "a"})
	require.NoError(t, err)
	require.Equal(t, "OtherJob", row.Kind)
	require.Equal(t, "default", row.Queue)
	require.Equal(t, 0, row.Priority)

	var (
		queue, class, active string
		priority             int32
		params               []byte
		scheduled, created   time.Time
		finished             *time.Time
	)
	err = db.Pool.QueryRow(ctx, `SELECT queue_name, job_class, active_job_id::text, priority,
		serialized_params, scheduled_at, created_at, finished_at FROM good_jobs WHERE id = $1`,
		row.ID).Scan(&queue, &class, &active, &priority, &params, &scheduled, &created, &finished)
	require.NoError(t, err)
	require.Equal(t, "default", queue)
	require.Equal(t, "OtherJob", class)
	require.Equal(t, row.ID.String(), active)
	require.Zero(t, priority)
	require.Nil(t, finished)
	require.WithinDuration(t, before, scheduled, 5*time.Second)
	require.Equal(t, scheduled, created)

	var env map[string]any
	require.NoError(t, json.Unmarshal(params, &env))
	require.Equal(t, "OtherJob", env["job_class"])
	require.Equal(t, row.ID.String(), env["job_id"])
	require.Equal(t, "default", env["queue_name"])
	require.EqualValues(t, 0, env["executions"])
	require.Equal(t, []any{map[string]any{"name": "a"}}, env["arguments"])

	at := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	row, err = c.Enqueue(ctx, otherArgs{Name: "b"}, goodjob.Queue("mailers"),
		goodjob.Priority(-3), goodjob.At(at), goodjob.Labels("x", "y"))
	require.NoError(t, err)
	s := loadJob(t, db.Pool, row.ID)
	require.Equal(t, "mailers", s.Queue)
	require.EqualValues(t, -3, *s.Priority)
	require.True(t, at.Equal(s.ScheduledAt), "scheduled_at %v, want %v", s.ScheduledAt, at)

	row, err = c.Enqueue(ctx, otherArgs{}, goodjob.Wait(time.Minute))
	require.NoError(t, err)
	s = loadJob(t, db.Pool, row.ID)
	require.WithinDuration(t, time.Now().Add(time.Minute), s.ScheduledAt, 5*time.Second)
}

func TestEnqueue_InvalidInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})

	cases := map[string]struct {
		args goodjob.Args
		opts []goodjob.EnqueueOption
	}{
		"nil args":      {nil, nil},
		"nil pointer":   {(*noopArgs)(nil), nil},
		"bad queue":     {noopArgs{}, []goodjob.EnqueueOption{goodjob.Queue("a,b")}},
		"empty queue":   {noopArgs{}, []goodjob.EnqueueOption{goodjob.Queue("")}},
		"negative wait": {noopArgs{}, []goodjob.EnqueueOption{goodjob.Wait(-time.Second)}},
		"huge priority": {noopArgs{}, []goodjob.EnqueueOption{goodjob.Priority(1 << 40)}},
		"unencodable":   {badArgs{C: make(chan int)}, nil},
		"empty kind":    {emptyKind{}, nil},
	}
	for name, tc := range cases {
		_, err := c.Enqueue(ctx, tc.args, tc.opts...)
		require.ErrorIs(t, err, goodjob.ErrInvalidArgs, name)
	}
	_, err := c.EnqueueTx(ctx, nil, noopArgs{})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	_, err = c.EnqueueMany(ctx, []goodjob.EnqueueParams{{Args: noopArgs{}},
		{Args: noopArgs{}, Options: []goodjob.EnqueueOption{goodjob.Queue("a b")}}})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)

	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&n))
	require.Zero(t, n, "a rejected job writes nothing")
}

type badArgs struct {
	C chan int `json:"c"`
}

func (badArgs) Kind() string { return "BadJob" }

type emptyKind struct{}

func (emptyKind) Kind() string { return "" }

func TestEnqueueTx(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	rolledQ, keptQ := "rolled_"+db.Schema, "kept_"+db.Schema
	notes := listenQueues(t, db.URL, rolledQ, keptQ)

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	rolled, err := c.EnqueueTx(ctx, tx, noopArgs{N: 1}, goodjob.Queue(rolledQ))
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	kept, err := c.EnqueueTx(ctx, tx, noopArgs{N: 2}, goodjob.Queue(keptQ))
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	// Notifications arrive in commit order, so the first one would be the
	// rolled-back job's if a rollback leaked a wake-up.
	n := waitFor(t, notes, 5*time.Second, "notification")
	require.Contains(t, n, `"queue_name":"`+keptQ+`"`)

	var ids []uuid.UUID
	rows, err := db.Pool.Query(ctx, "SELECT id FROM good_jobs")
	require.NoError(t, err)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{kept.ID}, ids)
	require.NotEqual(t, rolled.ID, kept.ID)
}

func TestEnqueueMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	queues := []string{"a_" + db.Schema, "b_" + db.Schema}
	sentinel := "sentinel_" + db.Schema
	notes := listenQueues(t, db.URL, append(queues, sentinel)...)

	var params []goodjob.EnqueueParams
	for i := range 100 {
		q := queues[i%2]
		params = append(params, goodjob.EnqueueParams{Args: noopArgs{N: i},
			Options: []goodjob.EnqueueOption{goodjob.Queue(q), goodjob.Priority(i % 3)}})
	}
	rows, err := c.EnqueueMany(ctx, params)
	require.NoError(t, err)
	require.Len(t, rows, 100)
	// EnqueueMany outside a transaction sends its wake-ups after the jobs
	// commit, through the Client's wake sender.
	require.NoError(t, c.Flush(ctx))
	_, err = db.Pool.Exec(ctx, "SELECT pg_notify('good_job', $1)", sentinel)
	require.NoError(t, err)

	var got []string
	for {
		n := waitFor(t, notes, 5*time.Second, "notification")
		if n == sentinel {
			break
		}
		got = append(got, n)
	}
	require.Len(t, got, 2, "one notification per queue: %v", got)

	var n, distinctArgs int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*),
		count(DISTINCT serialized_params->'arguments'->0->>'n') FROM good_jobs`).
		Scan(&n, &distinctArgs))
	require.Equal(t, 100, n)
	require.Equal(t, 100, distinctArgs)
	for i, r := range rows {
		require.Equal(t, params[i].Args.(noopArgs).N%3, r.Priority)
	}
}

// listenQueues is listen for the wake-ups of queues only, and for payloads
// equal to one of them: the channel is shared by every test of the
// database.
func listenQueues(t *testing.T, url string, queues ...string) <-chan string {
	t.Helper()
	all := listen(t, url)
	out := make(chan string, 1000)
	go func() {
		for raw := range all {
			var p struct {
				Queue string `json:"queue_name"`
			}
			if json.Unmarshal([]byte(raw), &p) != nil {
				p.Queue = raw
			}
			if slices.Contains(queues, p.Queue) {
				out <- raw
			}
		}
	}()
	return out
}

// listen returns the payloads of notifications on the good_job channel,
// from a connection of its own.
func listen(t *testing.T, url string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "LISTEN good_job")
	require.NoError(t, err)
	ch := make(chan string, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				return
			}
			ch <- n.Payload
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = conn.Close(context.Background())
	})
	return ch
}

func TestWork_ExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	const total = 10_000

	var (
		mu   sync.Mutex
		runs = make(map[int]int)
		all  = make(chan struct{})
	)
	work := goodjob.WorkFunc[noopArgs](func(_ context.Context, j *goodjob.Job[noopArgs]) error {
		mu.Lock()
		defer mu.Unlock()
		runs[j.Args.N]++
		if len(runs) == total && runs[j.Args.N] == 1 {
			close(all)
		}
		return nil
	})
	producer := newClient(t, db.Pool, goodjob.Config{})
	params := noopParams(total)
	_, err := producer.EnqueueMany(ctx, params)
	require.NoError(t, err)

	for range 3 {
		c := newClient(t, db.Pool, goodjob.Config{MaxThreads: 10, PollInterval: time.Second})
		require.NoError(t, goodjob.Register(c, work))
		start(t, c)
	}
	waitFor(t, all, time.Minute, "every job to run")

	// Completions are written asynchronously: wait until every row is
	// finished, through the wake-up of a notification-free poll.
	require.Eventually(t, func() bool {
		var n int
		_ = db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs WHERE finished_at IS NULL").
			Scan(&n)
		return n == 0
	}, 30*time.Second, 20*time.Millisecond)

	mu.Lock()
	for n, k := range runs {
		require.Equal(t, 1, k, "job %d ran %d times", n, k)
	}
	mu.Unlock()
	var jobs, locked, execs, badCount int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE locked_by_id IS NOT NULL),
		(SELECT count(*) FROM good_job_executions WHERE error IS NULL AND duration IS NOT NULL),
		count(*) FILTER (WHERE executions_count <> 1)
		FROM good_jobs`).Scan(&jobs, &locked, &execs, &badCount))
	require.Equal(t, total, jobs)
	require.Zero(t, locked)
	require.Equal(t, total, execs)
	require.Zero(t, badCount)
}

// recorder is a worker that reports the order jobs start in.
func recorder[T goodjob.Args](started chan<- T) goodjob.Worker[T] {
	return goodjob.WorkFunc[T](func(_ context.Context, j *goodjob.Job[T]) error {
		started <- j.Args
		return nil
	})
}

func TestWork_Order(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{Queues: "*:1"})
	started := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(started)))

	past := time.Now().Add(-time.Hour)
	enqueue := func(n int, opts ...goodjob.EnqueueOption) {
		_, err := c.Enqueue(ctx, noopArgs{N: n}, opts...)
		require.NoError(t, err)
	}
	enqueue(5, goodjob.Priority(2))
	enqueue(3, goodjob.Priority(1), goodjob.At(past.Add(time.Minute)))
	enqueue(2, goodjob.Priority(1), goodjob.At(past))
	enqueue(1, goodjob.Priority(-1))
	enqueue(4, goodjob.Priority(1))
	_, err := db.Pool.Exec(ctx, "UPDATE good_jobs SET priority = NULL WHERE priority = 2")
	require.NoError(t, err)
	start(t, c)

	var got []int
	for range 5 {
		got = append(got, waitFor(t, started, 10*time.Second, "job").N)
	}
	require.Equal(t, []int{1, 2, 3, 4, 5}, got, "priority, NULL last, then scheduled time")
}

func TestWork_OrderedAndExcludedQueues(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	producer := newClient(t, db.Pool, goodjob.Config{})
	for i, q := range []string{"low", "high", "low", "high", "skip"} {
		_, err := producer.Enqueue(ctx, noopArgs{N: i}, goodjob.Queue(q))
		require.NoError(t, err)
	}

	ordered := newClient(t, db.Pool, goodjob.Config{Queues: "+high,low:1"})
	startedOrdered := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(ordered, recorder(startedOrdered)))
	start(t, ordered)
	var got []int
	for range 4 {
		got = append(got, waitFor(t, startedOrdered, 10*time.Second, "job").N)
	}
	require.Equal(t, []int{1, 3, 0, 2}, got, "every high job before any low job")

	excluding := newClient(t, db.Pool, goodjob.Config{Queues: "-skip:1"})
	startedExcl := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(excluding, recorder(startedExcl)))
	_, err := producer.Enqueue(ctx, noopArgs{N: 10}, goodjob.Queue("other"))
	require.NoError(t, err)
	start(t, excluding)
	require.Equal(t, 10, waitFor(t, startedExcl, 10*time.Second, "job").N)

	// The skip job is still waiting, unclaimed, after the excluding pool
	// claimed its other job: a claim takes every match it has room for.
	var locked, finished bool
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT locked_by_id IS NOT NULL,
		finished_at IS NOT NULL FROM good_jobs WHERE queue_name = 'skip'`).
		Scan(&locked, &finished))
	require.False(t, locked)
	require.False(t, finished)
	select {
	case j := <-startedExcl:
		t.Fatalf("job %d of an excluded queue ran", j.N)
	default:
	}
}

func TestWork_WakeLatency(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	worker := newClient(t, db.Pool, goodjob.Config{PollInterval: time.Minute})
	started := make(chan time.Time, 10)
	require.NoError(t, goodjob.Register(worker, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			started <- time.Now()
			return nil
		})))
	start(t, worker)
	producer := newClient(t, db.Pool, goodjob.Config{})

	for i := range 5 {
		_, err := producer.Enqueue(ctx, noopArgs{N: i})
		require.NoError(t, err)
		committed := time.Now()
		at := waitFor(t, started, 5*time.Second, "job start")
		require.Less(t, at.Sub(committed), 100*time.Millisecond, "job %d", i)
	}
}

func TestWork_ScheduledJobStartsOnTime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	// A session time zone other than UTC must not move any time.
	pool := poolWithTimeZone(t, db.URL, "America/Los_Angeles")

	worker := newClient(t, pool, goodjob.Config{PollInterval: time.Minute})
	started := make(chan time.Time, 10)
	require.NoError(t, goodjob.Register(worker, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			started <- time.Now()
			return nil
		})))
	start(t, worker)

	producer := newClient(t, pool, goodjob.Config{})
	row, err := producer.Enqueue(ctx, noopArgs{}, goodjob.Wait(2*time.Second))
	require.NoError(t, err)
	at := waitFor(t, started, 10*time.Second, "job start")
	late := at.Sub(row.ScheduledAt)
	require.GreaterOrEqual(t, late, time.Duration(0), "started early")
	require.Less(t, late, 50*time.Millisecond, "started %s after its time", late)

	require.Eventually(t, func() bool {
		return loadJob(t, pool, row.ID).FinishedAt != nil
	}, 5*time.Second, 10*time.Millisecond)
	s := loadJob(t, pool, row.ID)
	require.WithinDuration(t, at, *s.FinishedAt, time.Second)
	require.WithinDuration(t, row.ScheduledAt, s.ScheduledAt, time.Millisecond)
}

func TestWork_UnknownKindStaysQueued(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	started := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(started)))

	other, err := c.Enqueue(ctx, otherArgs{Name: "elsewhere"})
	require.NoError(t, err)
	_, err = c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)
	start(t, c)
	waitFor(t, started, 10*time.Second, "known job")

	s := loadJob(t, db.Pool, other.ID)
	require.Nil(t, s.LockedByID)
	require.Nil(t, s.PerformedAt)
	require.Nil(t, s.FinishedAt)
	require.Zero(t, s.Executions)

	// A process with the worker picks it up.
	c2 := newClient(t, db.Pool, goodjob.Config{})
	got := make(chan otherArgs, 1)
	require.NoError(t, goodjob.Register(c2, recorder(got)))
	start(t, c2)
	require.Equal(t, "elsewhere", waitFor(t, got, 10*time.Second, "other job").Name)
}

func TestWork_ArgsThatDoNotDecodeAreDiscarded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	started := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(started)))

	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE good_jobs SET serialized_params =
		jsonb_set(serialized_params, '{arguments}', '[{"n": "not a number"}]')
		WHERE id = $1`, row.ID)
	require.NoError(t, err)
	start(t, c)

	var s jobState
	require.Eventually(t, func() bool {
		s = loadJob(t, db.Pool, row.ID)
		return s.FinishedAt != nil
	}, 10*time.Second, 10*time.Millisecond)
	require.NotNil(t, s.Error)
	require.Contains(t, *s.Error, "NoopJob")
	require.Contains(t, *s.Error, row.ID.String())
	require.Contains(t, *s.Error, "cannot unmarshal")
	require.EqualValues(t, 5, *s.ErrorEvent, "discarded")
	require.Equal(t, 1, s.Executions)
	select {
	case <-started:
		t.Fatal("Work ran with args that do not decode")
	default:
	}
}

func TestWork_FailureIsRecordedAndRetried(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	// No poll comes within the test: the retry is found through the
	// pool's cache of upcoming times.
	c := newClient(t, db.Pool, goodjob.Config{PollInterval: time.Minute})
	attempts := make(chan int, 10)
	failedAt := make(chan time.Time, 1)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			attempts <- j.Attempt
			if j.Attempt == 2 {
				// The retry starts about 300ms after the failure.
				late := time.Since(<-failedAt)
				if late < 300*time.Millisecond || late > time.Second {
					return fmt.Errorf("retry started %s after the failure", late)
				}
			}
			if j.Attempt == 1 {
				failedAt <- time.Now()
				return errors.New("first attempt fails")
			}
			return nil
		}), goodjob.Retry(goodjob.RetryPolicy{Attempts: 2, Wait: goodjob.Fixed(300 * time.Millisecond)})))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	require.Equal(t, 1, waitFor(t, attempts, 10*time.Second, "attempt 1"))
	require.Equal(t, 2, waitFor(t, attempts, 10*time.Second, "attempt 2"))
	require.Eventually(t, func() bool {
		return loadJob(t, db.Pool, row.ID).FinishedAt != nil
	}, 10*time.Second, 10*time.Millisecond)

	rows, err := db.Pool.Query(ctx, `SELECT coalesce(error, ''), duration IS NOT NULL
		FROM good_job_executions WHERE active_job_id = $1 ORDER BY created_at`, row.ID)
	require.NoError(t, err)
	type exec struct {
		Error       string
		HasDuration bool
	}
	execs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[exec])
	require.NoError(t, err)
	require.Len(t, execs, 2)
	require.True(t, strings.HasSuffix(execs[0].Error, "first attempt fails"), execs[0].Error)
	require.Empty(t, execs[1].Error)
	require.True(t, execs[0].HasDuration && execs[1].HasDuration)

	var executions int
	var locked bool
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT (serialized_params->>'executions')::int,
		locked_by_id IS NOT NULL FROM good_jobs WHERE id = $1`, row.ID).Scan(&executions, &locked))
	require.Equal(t, 1, executions, "one failed attempt counted in the envelope")
	require.False(t, locked)
}

func TestStop_ReleasesRunningJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	first := newClient(t, db.Pool, goodjob.Config{Queues: "*:2"})
	running := make(chan int, 10)
	require.NoError(t, goodjob.Register(first, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, j *goodjob.Job[noopArgs]) error {
			running <- j.Args.N
			if j.Args.N == 1 {
				return nil
			}
			<-ctx.Done()
			return ctx.Err()
		})))
	quick, err := first.Enqueue(ctx, noopArgs{N: 1}, goodjob.Priority(1))
	require.NoError(t, err)
	slow, err := first.Enqueue(ctx, noopArgs{N: 2}, goodjob.Priority(2))
	require.NoError(t, err)
	require.NoError(t, first.Start(ctx))
	waitFor(t, running, 10*time.Second, "first job")
	waitFor(t, running, 10*time.Second, "second job")

	stopCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = first.Stop(stopCtx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	q := loadJob(t, db.Pool, quick.ID)
	require.NotNil(t, q.FinishedAt, "the finished job is recorded")
	s := loadJob(t, db.Pool, slow.ID)
	require.Nil(t, s.FinishedAt)
	require.Nil(t, s.LockedByID, "the unfinished job is released")
	require.Nil(t, s.PerformedAt)
	require.EqualValues(t, 0, *s.ErrorEvent, "interrupted")
	require.Equal(t, 1, s.Executions)

	var processes int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_job_processes").
		Scan(&processes))
	require.Zero(t, processes, "Stop removes the process row")

	second := newClient(t, db.Pool, goodjob.Config{})
	again := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(second, recorder(again)))
	start(t, second)
	require.Equal(t, 2, waitFor(t, again, 10*time.Second, "released job").N)
}

func TestStartStop_Errors(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.ErrorIs(t, c.Stop(t.Context()), goodjob.ErrNotStarted)
	start(t, c)
	require.ErrorIs(t, c.Start(t.Context()), goodjob.ErrStarted)

	var n int
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		"SELECT count(*) FROM good_job_processes WHERE id = $1", c.ProcessID()).Scan(&n))
	require.Equal(t, 1, n, "a started Client registers its process")
}
