package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/goodjobtest"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// uniqueArgs is a job whose worker succeeds, fails or discards as told.
type uniqueArgs struct {
	Key  string `json:"key"`
	Fail string `json:"fail,omitempty"` // "retry" or "discard"
}

func (uniqueArgs) Kind() string { return "UniqueJob" }

func uniqueWorker() goodjob.Worker[uniqueArgs] {
	return goodjob.WorkFunc[uniqueArgs](func(_ context.Context, j *goodjob.Job[uniqueArgs]) error {
		switch j.Args.Fail {
		case "retry":
			return errors.New("try again")
		case "discard":
			return goodjob.Discard(errors.New("give up"))
		}
		return nil
	})
}

// countKey counts the jobs of kind holding key, and the unfinished ones.
func countKey(t testing.TB, pool *pgxpool.Pool, kind, key string) (all, unfinished int) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*),
		count(*) FILTER (WHERE finished_at IS NULL) FROM good_jobs
		WHERE job_class = $1 AND unique_key = $2`, kind, key).Scan(&all, &unfinished))
	return all, unfinished
}

func TestUnique_ConcurrentEnqueue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	const clients, goroutines, rounds = 3, 8, 5
	var cs []*goodjob.Client
	for range clients {
		pool, err := pgxpool.New(ctx, db.URL)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		cs = append(cs, newClient(t, pool, goodjob.Config{}))
	}

	for round := range rounds {
		key := fmt.Sprintf("report-%d", round)
		begin := make(chan struct{})
		rows := make(chan *goodjob.JobRow, clients*goroutines)
		errs := make(chan error, clients*goroutines)
		var wg sync.WaitGroup
		for _, c := range cs {
			for range goroutines {
				wg.Go(func() {
					<-begin
					row, err := c.Enqueue(ctx, noopArgs{N: round}, goodjob.Unique(key))
					if err != nil {
						errs <- err
						return
					}
					rows <- row
				})
			}
		}
		close(begin)
		wg.Wait()
		close(rows)
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}

		ids := make(map[uuid.UUID]int)
		inserted := 0
		for r := range rows {
			ids[r.ID]++
			require.Equal(t, key, r.UniqueKey)
			if !r.Duplicate {
				inserted++
			}
		}
		require.Len(t, ids, 1, "every call returns the one job")
		require.Equal(t, 1, inserted, "exactly one call inserts")
		all, unfinished := countKey(t, db.Pool, "NoopJob", key)
		require.Equal(t, 1, all)
		require.Equal(t, 1, unfinished)
		for id, n := range ids {
			require.Equal(t, clients*goroutines, n)
			require.Equal(t, 1, loadCountByID(t, db.Pool, id))
		}
	}
}

func loadCountByID(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT count(*) FROM good_jobs WHERE id = $1", id).Scan(&n))
	return n
}

func TestUnique_KeyLifetime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, uniqueWorker(),
		goodjob.Retry(goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Hour)})))

	t.Run("SucceededFreesKey", func(t *testing.T) {
		done := goodjobtest.Work(ctx, t, c, uniqueArgs{Key: "a"}, goodjob.Unique("a"))
		require.Equal(t, goodjob.JobStateSucceeded, done.State)
		require.Equal(t, "a", done.UniqueKey)
		row, err := c.Enqueue(ctx, uniqueArgs{Key: "a"}, goodjob.Unique("a"))
		require.NoError(t, err)
		require.False(t, row.Duplicate)
		require.NotEqual(t, done.ID, row.ID)
		all, unfinished := countKey(t, db.Pool, "UniqueJob", "a")
		require.Equal(t, 2, all)
		require.Equal(t, 1, unfinished)
	})

	t.Run("DiscardedFreesKey", func(t *testing.T) {
		done := goodjobtest.Work(ctx, t, c, uniqueArgs{Fail: "discard"}, goodjob.Unique("b"))
		require.Equal(t, goodjob.JobStateDiscarded, done.State)
		row, err := c.Enqueue(ctx, uniqueArgs{}, goodjob.Unique("b"))
		require.NoError(t, err)
		require.False(t, row.Duplicate)
		require.NotEqual(t, done.ID, row.ID)
	})

	t.Run("RetryKeepsKey", func(t *testing.T) {
		failed := goodjobtest.Work(ctx, t, c, uniqueArgs{Fail: "retry"}, goodjob.Unique("c"))
		require.Equal(t, goodjob.JobStateScheduled, failed.State)
		require.Nil(t, failed.FinishedAt)
		row, err := c.Enqueue(ctx, uniqueArgs{}, goodjob.Unique("c"))
		require.NoError(t, err)
		require.True(t, row.Duplicate)
		require.Equal(t, failed.ID, row.ID)
		require.Equal(t, failed.Error, row.Error, "the row is the stored, failed job")
		require.NotEmpty(t, row.Error)
		require.Equal(t, failed.ScheduledAt, row.ScheduledAt)
		all, _ := countKey(t, db.Pool, "UniqueJob", "c")
		require.Equal(t, 1, all)
	})

	t.Run("ScopedByKind", func(t *testing.T) {
		a, err := c.Enqueue(ctx, uniqueArgs{}, goodjob.Unique("shared"))
		require.NoError(t, err)
		b, err := c.Enqueue(ctx, otherArgs{}, goodjob.Unique("shared"))
		require.NoError(t, err)
		require.False(t, a.Duplicate)
		require.False(t, b.Duplicate)
		require.NotEqual(t, a.ID, b.ID)
	})
}

func TestUnique_RunningJobBlocks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{PollInterval: -1})
	started := make(chan uuid.UUID, 1)
	release := make(chan struct{})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, j *goodjob.Job[noopArgs]) error {
			started <- j.ID
			<-release
			return nil
		})))
	start(t, c)

	first, err := c.Enqueue(ctx, noopArgs{N: 1}, goodjob.Unique("sync"))
	require.NoError(t, err)
	require.Equal(t, first.ID, waitFor(t, started, 10*time.Second, "job start"))
	require.NotNil(t, loadJob(t, db.Pool, first.ID).LockedByID)

	dup, err := c.Enqueue(ctx, noopArgs{N: 2}, goodjob.Unique("sync"))
	require.NoError(t, err)
	require.True(t, dup.Duplicate)
	require.Equal(t, first.ID, dup.ID)
	require.NotNil(t, dup.LockedByID, "the returned row is the running job")
	require.JSONEq(t, `{"n":1}`, string(dup.Args))

	close(release)
	waitFinished(t, db.Pool, first.ID)
	next, err := c.Enqueue(ctx, noopArgs{N: 3}, goodjob.Unique("sync"))
	require.NoError(t, err)
	require.False(t, next.Duplicate)
	require.NotEqual(t, first.ID, next.ID)
	require.Equal(t, next.ID, waitFor(t, started, 10*time.Second, "second job start"))
}

func TestUnique_EnqueueMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	q, sentinel := "unique_"+db.Schema, "sentinel_"+db.Schema
	held, err := c.Enqueue(ctx, noopArgs{N: 0}, goodjob.Unique("a"), goodjob.Queue(q))
	require.NoError(t, err)
	require.NoError(t, c.Flush(ctx))
	notes := listenQueues(t, db.URL, q, sentinel)

	u := func(key string) []goodjob.EnqueueOption {
		return []goodjob.EnqueueOption{goodjob.Unique(key), goodjob.Queue(q)}
	}
	rows, err := c.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 1}, Options: u("a")},                                    // held by a stored job
		{Args: noopArgs{N: 2}, Options: u("b")},                                    // new
		{Args: noopArgs{N: 3}, Options: u("b")},                                    // held by row 1 of the batch
		{Args: noopArgs{N: 4}, Options: []goodjob.EnqueueOption{goodjob.Queue(q)}}, // not unique
		{Args: otherArgs{Name: "x"}, Options: u("a")},                              // another kind
		{Args: noopArgs{N: 5}, Options: u("a")},                                    // held by the stored job again
	})
	require.NoError(t, err)
	require.Len(t, rows, 6)

	require.True(t, rows[0].Duplicate)
	require.Equal(t, held.ID, rows[0].ID)
	require.JSONEq(t, `{"n":0}`, string(rows[0].Args))
	require.False(t, rows[1].Duplicate)
	require.True(t, rows[2].Duplicate)
	require.Equal(t, rows[1].ID, rows[2].ID)
	require.JSONEq(t, `{"n":2}`, string(rows[2].Args))
	require.False(t, rows[3].Duplicate)
	require.Empty(t, rows[3].UniqueKey)
	require.False(t, rows[4].Duplicate)
	require.True(t, rows[5].Duplicate)
	require.Equal(t, held.ID, rows[5].ID)

	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&n))
	require.Equal(t, 4, n, "the held job plus rows 1, 3 and 4")
	for _, i := range []int{1, 3, 4} {
		require.Equal(t, 1, loadCountByID(t, db.Pool, rows[i].ID))
	}

	// Only written jobs wake workers: one wake-up for the batch's three,
	// none for a duplicate Enqueue.
	require.Contains(t, waitFor(t, notes, 5*time.Second, "batch wake-up"), `"count" : 3`)
	dup, err := c.Enqueue(ctx, noopArgs{N: 6}, u("b")...)
	require.NoError(t, err)
	require.True(t, dup.Duplicate)
	require.NoError(t, c.Flush(ctx))
	_, err = db.Pool.Exec(ctx, "SELECT pg_notify('good_job', $1)", sentinel)
	require.NoError(t, err)
	require.Equal(t, sentinel, waitFor(t, notes, 5*time.Second, "sentinel"))
}

func TestUnique_EnqueueManyRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	const keys, batches = 20, 6

	// Batches list the same keys in different orders; the statement locks
	// them in key order, so they cannot deadlock.
	begin := make(chan struct{})
	results := make([][]*goodjob.JobRow, batches)
	errs := make([]error, batches)
	var wg sync.WaitGroup
	for b := range batches {
		var params []goodjob.EnqueueParams
		for k := range keys {
			if b%2 == 1 {
				k = keys - 1 - k
			}
			params = append(params, goodjob.EnqueueParams{Args: noopArgs{N: k},
				Options: []goodjob.EnqueueOption{goodjob.Unique(fmt.Sprint("k", k))}})
		}
		wg.Go(func() {
			<-begin
			results[b], errs[b] = c.EnqueueMany(ctx, params)
		})
	}
	close(begin)
	wg.Wait()

	idOf := make(map[string]uuid.UUID)
	inserted := make(map[string]int)
	for b := range batches {
		require.NoError(t, errs[b])
		for _, r := range results[b] {
			if id, ok := idOf[r.UniqueKey]; ok {
				require.Equal(t, id, r.ID, "key %s", r.UniqueKey)
			}
			idOf[r.UniqueKey] = r.ID
			if !r.Duplicate {
				inserted[r.UniqueKey]++
			}
		}
	}
	require.Len(t, idOf, keys)
	for k := range idOf {
		require.Equal(t, 1, inserted[k], "key %s inserted once", k)
	}
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&n))
	require.Equal(t, keys, n)
}

func TestUnique_EnqueueTx(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})

	t.Run("RollbackFreesKey", func(t *testing.T) {
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		rolled, err := c.EnqueueTx(ctx, tx, noopArgs{N: 1}, goodjob.Unique("tx"))
		require.NoError(t, err)
		require.False(t, rolled.Duplicate)
		again, err := c.EnqueueTx(ctx, tx, noopArgs{N: 2}, goodjob.Unique("tx"))
		require.NoError(t, err)
		require.True(t, again.Duplicate, "the transaction sees its own job")
		require.Equal(t, rolled.ID, again.ID)
		require.NoError(t, tx.Rollback(ctx))

		row, err := c.Enqueue(ctx, noopArgs{N: 3}, goodjob.Unique("tx"))
		require.NoError(t, err)
		require.False(t, row.Duplicate)
		require.NotEqual(t, rolled.ID, row.ID)
		all, _ := countKey(t, db.Pool, "NoopJob", "tx")
		require.Equal(t, 1, all)
	})

	t.Run("WaitsForOpenTransaction", func(t *testing.T) {
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		mine, err := c.EnqueueTx(ctx, tx, noopArgs{N: 1}, goodjob.Unique("open"))
		require.NoError(t, err)
		var txPID int
		require.NoError(t, tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&txPID))

		got := make(chan *goodjob.JobRow, 1)
		go func() {
			row, err := c.Enqueue(ctx, noopArgs{N: 2}, goodjob.Unique("open"))
			if err != nil {
				t.Errorf("enqueue: %v", err)
			}
			got <- row
		}()
		// The second Enqueue waits on the transaction's uncommitted row.
		waitBlockedBy(t, db.Pool, txPID)
		require.NoError(t, tx.Commit(ctx))
		row := waitFor(t, got, 10*time.Second, "blocked enqueue")
		require.NotNil(t, row)
		require.True(t, row.Duplicate)
		require.Equal(t, mine.ID, row.ID)
	})
}

// waitBlockedBy waits until some backend waits for a lock that the backend
// pid holds.
func waitBlockedBy(t testing.TB, pool *pgxpool.Pool, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE $1::int = ANY(pg_blocking_pids(pid))`, pid).Scan(&n)
		return err == nil && n > 0
	}, 10*time.Second, 5*time.Millisecond)
}

func TestUnique_UniqueBy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, uniqueWorker(),
		goodjob.UniqueBy(func(a uniqueArgs) string { return "user:" + a.Key })))

	first, err := c.Enqueue(ctx, uniqueArgs{Key: "7"})
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	require.Equal(t, "user:7", first.UniqueKey)
	byPointer, err := c.Enqueue(ctx, &uniqueArgs{Key: "7"})
	require.NoError(t, err)
	require.True(t, byPointer.Duplicate)
	require.Equal(t, first.ID, byPointer.ID)

	other, err := c.Enqueue(ctx, uniqueArgs{Key: "8"})
	require.NoError(t, err)
	require.False(t, other.Duplicate)

	explicit, err := c.Enqueue(ctx, uniqueArgs{Key: "7"}, goodjob.Unique("manual"))
	require.NoError(t, err)
	require.False(t, explicit.Duplicate, "Unique overrides UniqueBy")
	require.Equal(t, "manual", explicit.UniqueKey)

	_, err = c.Enqueue(ctx, uniqueArgs{Key: ""}, goodjob.Unique(""))
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
}

func TestUnique_BadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, uniqueWorker(),
		goodjob.UniqueBy(func(a uniqueArgs) string { return a.Key })))

	_, err := c.Enqueue(ctx, noopArgs{}, goodjob.Unique(""))
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	require.ErrorContains(t, err, "unique key is empty")

	_, err = c.Enqueue(ctx, uniqueArgs{Key: ""})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	require.ErrorContains(t, err, "UniqueBy returned an empty unique key")

	_, err = c.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 1}, Options: []goodjob.EnqueueOption{goodjob.Unique("ok")}},
		{Args: noopArgs{N: 2}, Options: []goodjob.EnqueueOption{goodjob.Unique("")}},
	})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	require.ErrorContains(t, err, "job 1")

	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&n))
	require.Zero(t, n, "a rejected enqueue writes nothing")

	c2 := newClient(t, db.Pool, goodjob.Config{})
	err = goodjob.Register(c2, uniqueWorker(),
		goodjob.UniqueBy(func(a otherArgs) string { return a.Name }))
	require.ErrorContains(t, err, "UniqueBy takes goodjob_test.otherArgs")
	err = goodjob.Register(c2, uniqueWorker(), goodjob.UniqueBy[uniqueArgs](nil))
	require.ErrorContains(t, err, "UniqueBy with a nil function")
}

func TestUnique_RetryDiscardedJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	discard := func(id uuid.UUID) {
		setColumns(t, db.Pool, id, "finished_at = $2, error = 'E: boom', error_event = 4",
			time.Now().UTC())
	}

	t.Run("RefusedWhileKeyHeld", func(t *testing.T) {
		old, err := c.Enqueue(ctx, noopArgs{N: 1}, goodjob.Unique("r"))
		require.NoError(t, err)
		discard(old.ID)
		holder, err := c.Enqueue(ctx, noopArgs{N: 2}, goodjob.Unique("r"))
		require.NoError(t, err)
		require.False(t, holder.Duplicate)

		err = c.RetryJob(ctx, old.ID)
		require.ErrorIs(t, err, goodjob.ErrUniqueConflict)
		var aerr *goodjob.JobActionError
		require.ErrorAs(t, err, &aerr)
		require.Equal(t, goodjob.JobStateDiscarded, aerr.State)
		n, err := c.RetryJobs(ctx, goodjob.JobFilter{Kind: "NoopJob"})
		require.NoError(t, err)
		require.Zero(t, n, "RetryJobs skips the job")
		require.NotNil(t, loadJob(t, db.Pool, old.ID).FinishedAt)

		// Once the holder finishes, the key is free and the retry goes.
		setColumns(t, db.Pool, holder.ID, "finished_at = $2", time.Now().UTC())
		require.NoError(t, c.RetryJob(ctx, old.ID))
		require.Nil(t, loadJob(t, db.Pool, old.ID).FinishedAt)
	})

	t.Run("BulkRetriesOnePerKey", func(t *testing.T) {
		var ids []uuid.UUID
		for i := range 3 {
			row, err := c.Enqueue(ctx, otherArgs{Name: fmt.Sprint(i)}, goodjob.Unique("bulk"))
			require.NoError(t, err)
			discard(row.ID)
			ids = append(ids, row.ID)
		}
		free, err := c.Enqueue(ctx, otherArgs{Name: "no key"})
		require.NoError(t, err)
		discard(free.ID)

		n, err := c.RetryJobs(ctx, goodjob.JobFilter{Kind: "OtherJob"})
		require.NoError(t, err)
		require.Equal(t, 2, n, "the newest job of the key and the job without a key")
		_, unfinished := countKey(t, db.Pool, "OtherJob", "bulk")
		require.Equal(t, 1, unfinished)
		require.Nil(t, loadJob(t, db.Pool, ids[2]).FinishedAt)
		require.Nil(t, loadJob(t, db.Pool, free.ID).FinishedAt)
	})

	t.Run("RaceWithEnqueue", func(t *testing.T) {
		old, err := c.Enqueue(ctx, noopArgs{N: 1}, goodjob.Unique("race"))
		require.NoError(t, err)
		discard(old.ID)

		// An enqueue not yet committed takes the key; the retry's check
		// cannot see it, so the index decides once the enqueue commits.
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = c.EnqueueTx(ctx, tx, noopArgs{N: 2}, goodjob.Unique("race"))
		require.NoError(t, err)
		var txPID int
		require.NoError(t, tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&txPID))

		done := make(chan error, 1)
		go func() { done <- c.RetryJob(ctx, old.ID) }()
		waitBlockedBy(t, db.Pool, txPID)
		require.NoError(t, tx.Commit(ctx))
		err = waitFor(t, done, 10*time.Second, "retry")
		require.ErrorIs(t, err, goodjob.ErrUniqueConflict)
		require.NotNil(t, loadJob(t, db.Pool, old.ID).FinishedAt)
		_, unfinished := countKey(t, db.Pool, "NoopJob", "race")
		require.Equal(t, 1, unfinished)
	})
}

func TestUnique_Cron(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	clk := goodjob.NewFakeClock(time.Date(2025, 1, 1, 10, 0, 30, 0, time.UTC))
	// No worker runs NoopJob here, so the first tick's job stays queued and
	// holds the key.
	c := fakeClient(t, db.Pool, clk, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"sweep": {Cron: "* * * * *", Args: noopArgs{},
			Options: []goodjob.EnqueueOption{goodjob.Unique("sweep")}},
	}})
	start(t, c)
	require.NoError(t, clk.WaitSleepers(1, settle))

	advance(t, clk, time.Date(2025, 1, 1, 10, 1, 0, 0, time.UTC), 1)
	advance(t, clk, time.Date(2025, 1, 1, 10, 2, 0, 0, time.UTC), 1)
	ats := cronAts(t, db.Pool, "sweep")
	require.Equal(t, []time.Time{time.Date(2025, 1, 1, 10, 1, 0, 0, time.UTC)}, ats)
	info := cronInfo(t, c, "sweep")
	require.EqualValues(t, 1, info.Enqueued)
	require.EqualValues(t, 1, info.Duplicates, "the second tick found the key held")

	row, err := c.EnqueueCronNow(ctx, "sweep")
	require.NoError(t, err)
	require.True(t, row.Duplicate)
	require.Equal(t, "sweep", row.UniqueKey)
	all, _ := countKey(t, db.Pool, "NoopJob", "sweep")
	require.Equal(t, 1, all)
}
