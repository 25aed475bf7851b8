package goodjob_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// seed is a set of jobs that seedJobs writes with plain SQL.
type seed struct {
	n          int
	age        time.Duration // how long ago they were created (and finished)
	unfinished bool
	err        string // set: the jobs finished (or were retried) with this error
	executions int    // good_job_executions rows per job
}

// seedJobs writes s and returns the jobs' ids. Times are bound from Go in
// UTC, as the library binds them.
func seedJobs(t testing.TB, pool *pgxpool.Pool, s seed) []uuid.UUID {
	t.Helper()
	at := time.Now().Add(-s.age).UTC()
	var finished *time.Time
	if !s.unfinished {
		finished = &at
	}
	var errText *string
	if s.err != "" {
		errText = &s.err
	}
	rows, err := pool.Query(t.Context(), `
WITH j AS (
	INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, serialized_params,
		scheduled_at, created_at, updated_at, performed_at, finished_at, error)
	SELECT id, id, 'NoopJob', 'default', '{"arguments":[{}]}', $1, $1, $1, $1, $2, $3
	FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $4)) s
	RETURNING id
), e AS (
	INSERT INTO good_job_executions (active_job_id, job_class, queue_name,
		created_at, updated_at, scheduled_at, finished_at)
	SELECT j.id, 'NoopJob', 'default', $1, $1, $1, $1 FROM j, generate_series(1, $5)
)
SELECT id FROM j`, at, finished, errText, s.n, s.executions)
	require.NoError(t, err)
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// seedBatch writes one good_job_batches row and returns its id.
func seedBatch(t testing.TB, pool *pgxpool.Pool, finishedAgo time.Duration, finished,
	discarded bool) uuid.UUID {
	t.Helper()
	at := time.Now().Add(-finishedAgo).UTC()
	var fin, disc *time.Time
	if finished {
		fin = &at
	}
	if discarded {
		disc = &at
	}
	var id uuid.UUID
	require.NoError(t, pool.QueryRow(t.Context(), `INSERT INTO good_job_batches
		(created_at, updated_at, finished_at, discarded_at) VALUES ($1, $1, $2, $3)
		RETURNING id`, at, fin, disc).Scan(&id))
	return id
}

// remaining counts the rows of ids in good_jobs and their executions.
func remaining(t testing.TB, pool *pgxpool.Pool, ids []uuid.UUID) (jobs, execs int) {
	t.Helper()
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM good_jobs WHERE id = ANY($1)),
		(SELECT count(*) FROM good_job_executions WHERE active_job_id = ANY($1))`, ids).
		Scan(&jobs, &execs))
	return jobs, execs
}

func batchExists(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) bool {
	t.Helper()
	var ok bool
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM good_job_batches WHERE id = $1)", id).Scan(&ok))
	return ok
}

func TestClient_Cleanup(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	// A session time zone far from UTC: a cutoff compared in the session's
	// zone would be off by nine hours and take the 23-hour-old jobs too.
	pool := poolWithTimeZone(t, db.URL, "Asia/Tokyo")
	c := newClient(t, pool, goodjob.Config{})
	day := 24 * time.Hour

	oldOK := seedJobs(t, pool, seed{n: 3, age: day + time.Hour, executions: 2})
	oldBad := seedJobs(t, pool, seed{n: 2, age: day + time.Hour, err: "E: boom", executions: 1})
	newOK := seedJobs(t, pool, seed{n: 2, age: day - time.Hour, executions: 1})
	waiting := seedJobs(t, pool, seed{n: 1, age: 30 * day, unfinished: true, executions: 1})
	retried := seedJobs(t, pool, seed{n: 1, age: 30 * day, unfinished: true, err: "E: again",
		executions: 3})
	oldBatch := seedBatch(t, pool, day+time.Hour, true, false)
	oldBadBatch := seedBatch(t, pool, day+time.Hour, true, true)
	newBatch := seedBatch(t, pool, day-time.Hour, true, false)
	openBatch := seedBatch(t, pool, 30*day, false, false)

	before := time.Now().Add(-day)
	res, err := c.Cleanup(t.Context(), goodjob.CleanupOptions{Before: before, KeepDiscarded: true})
	require.NoError(t, err)
	require.Equal(t, goodjob.CleanupResult{Before: before.UTC(), Jobs: 3, Executions: 6,
		Batches: 1}, res)
	jobs, execs := remaining(t, pool, oldOK)
	require.Zero(t, jobs+execs, "old succeeded jobs and their executions are gone")
	jobs, execs = remaining(t, pool, oldBad)
	require.Equal(t, []int{2, 2}, []int{jobs, execs}, "discarded jobs kept")
	require.False(t, batchExists(t, pool, oldBatch))
	require.True(t, batchExists(t, pool, oldBadBatch))

	res, err = c.Cleanup(t.Context(), goodjob.CleanupOptions{Before: before})
	require.NoError(t, err)
	require.Equal(t, []int{2, 2, 1}, []int{res.Jobs, res.Executions, res.Batches})
	jobs, execs = remaining(t, pool, oldBad)
	require.Zero(t, jobs+execs)
	require.False(t, batchExists(t, pool, oldBadBatch))

	jobs, execs = remaining(t, pool, newOK)
	require.Equal(t, []int{2, 2}, []int{jobs, execs}, "jobs newer than the cutoff kept")
	jobs, execs = remaining(t, pool, append(waiting, retried...))
	require.Equal(t, []int{2, 4}, []int{jobs, execs}, "unfinished jobs are never deleted")
	require.True(t, batchExists(t, pool, newBatch))
	require.True(t, batchExists(t, pool, openBatch))

	// The default cutoff is 14 days: nothing here is that old and finished.
	res, err = c.Cleanup(t.Context(), goodjob.CleanupOptions{})
	require.NoError(t, err)
	require.Zero(t, res.Jobs)
	require.WithinDuration(t, time.Now().Add(-14*day), res.Before, time.Minute)
}

func TestClient_CleanupBadOptions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := seedJobs(t, db.Pool, seed{n: 2, age: 30 * 24 * time.Hour, executions: 1})
	_, err := c.Cleanup(t.Context(), goodjob.CleanupOptions{BatchSize: -1})
	require.ErrorContains(t, err, "CleanupOptions.BatchSize is -1")
	jobs, _ := remaining(t, db.Pool, ids)
	require.Equal(t, 2, jobs, "nothing deleted")
}

// TestClient_CleanupBatchSize deletes 5,000 jobs 1,000 per statement.
func TestClient_CleanupBatchSize(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	var batches []int
	goodjob.OnCleanupBatch(c, func(n int) { batches = append(batches, n) })
	ids := seedJobs(t, db.Pool, seed{n: 5000, age: 30 * 24 * time.Hour, executions: 1})

	res, err := c.Cleanup(t.Context(), goodjob.CleanupOptions{BatchSize: 1000})
	require.NoError(t, err)
	require.Equal(t, 5000, res.Jobs)
	require.Equal(t, 5000, res.Executions)
	// Five full statements, then one that finds nothing and ends the loop.
	require.Equal(t, []int{1000, 1000, 1000, 1000, 1000, 0}, batches)
	jobs, execs := remaining(t, db.Pool, ids)
	require.Zero(t, jobs+execs)
}

// TestClient_CleanupConcurrent runs two Clients' cleanups at once: they take
// turns batch by batch and together delete every row exactly once.
func TestClient_CleanupConcurrent(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ids := seedJobs(t, db.Pool, seed{n: 3000, age: 30 * 24 * time.Hour, executions: 1})
	a := newClient(t, db.Pool, goodjob.Config{})
	b := newClient(t, db.Pool, goodjob.Config{})

	var wg sync.WaitGroup
	results := make([]goodjob.CleanupResult, 2)
	errs := make([]error, 2)
	for i, c := range []*goodjob.Client{a, b} {
		wg.Go(func() {
			results[i], errs[i] = c.Cleanup(t.Context(), goodjob.CleanupOptions{BatchSize: 100})
		})
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 3000, results[0].Jobs+results[1].Jobs)
	require.Equal(t, 3000, results[0].Executions+results[1].Executions)
	jobs, execs := remaining(t, db.Pool, ids)
	require.Zero(t, jobs+execs)
}

// TestClient_CleanupLocked holds the cleanup lock the way another process
// cleaning would: SkipIfBusy returns at once, a plain Cleanup waits for it.
func TestClient_CleanupLocked(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ids := seedJobs(t, db.Pool, seed{n: 10, age: 30 * 24 * time.Hour, executions: 1})
	c := newClient(t, db.Pool, goodjob.Config{})
	ctx := t.Context()
	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	require.NoError(t, goodjob.LockCleanup(ctx, tx))

	res, err := c.Cleanup(ctx, goodjob.CleanupOptions{SkipIfBusy: true})
	require.NoError(t, err)
	require.True(t, res.Skipped)
	require.Zero(t, res.Jobs)

	done := make(chan goodjob.CleanupResult, 1)
	go func() {
		res, err := c.Cleanup(ctx, goodjob.CleanupOptions{})
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		done <- res
	}()
	// Wait until the cleanup is blocked on the lock, then let it go.
	require.Eventually(t, func() bool {
		var waiting bool
		err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND classid = $1
			AND objid = 'good_jobs'::regclass::oid AND objsubid = 2)`,
			goodjob.CleanupLockClass).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, 5*time.Millisecond)
	jobs, _ := remaining(t, db.Pool, ids)
	require.Equal(t, 10, jobs, "nothing deleted while the lock is held")
	require.NoError(t, tx.Commit(ctx))
	res = waitFor(t, done, 10*time.Second, "cleanup after the lock is released")
	require.False(t, res.Skipped)
	require.Equal(t, 10, res.Jobs)
}

// TestClient_AutoCleanupByCount: a started Client cleans up after every
// CleanupIntervalJobs attempts it completes, and not before.
func TestClient_AutoCleanupByCount(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	old := seedJobs(t, db.Pool, seed{n: 20, age: 15 * 24 * time.Hour, executions: 1})
	c := newClient(t, db.Pool, goodjob.Config{CleanupIntervalJobs: 3, CleanupInterval: -1})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error { return nil })))
	start(t, c)

	var worked []uuid.UUID
	enqueue := func(n int) {
		for i := range n {
			row, err := c.Enqueue(t.Context(), noopArgs{N: i})
			require.NoError(t, err)
			worked = append(worked, row.ID)
		}
		require.Eventually(t, func() bool {
			var finished int
			err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM good_job_executions
				WHERE active_job_id = ANY($1) AND finished_at IS NOT NULL`, worked).
				Scan(&finished)
			return err == nil && finished == len(worked)
		}, 10*time.Second, 5*time.Millisecond)
	}

	enqueue(2)
	jobs, _ := remaining(t, db.Pool, old)
	require.Equal(t, 20, jobs, "two attempts do not trigger a cleanup")

	enqueue(1)
	require.Eventually(t, func() bool {
		jobs, execs := remaining(t, db.Pool, old)
		return jobs+execs == 0
	}, 10*time.Second, 5*time.Millisecond)
	jobs, execs := remaining(t, db.Pool, worked)
	require.Equal(t, []int{3, 3}, []int{jobs, execs}, "jobs finished just now are kept")
}

// TestClient_AutoCleanupByTime: an idle started Client cleans up every
// CleanupInterval, and CleanupKeepDiscarded keeps discarded jobs.
func TestClient_AutoCleanupByTime(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ok := seedJobs(t, db.Pool, seed{n: 5, age: 3 * time.Hour, executions: 1})
	bad := seedJobs(t, db.Pool, seed{n: 5, age: 3 * time.Hour, err: "E: x", executions: 1})
	c := newClient(t, db.Pool, goodjob.Config{
		CleanupPreservedJobsBefore: 2 * time.Hour, CleanupInterval: 20 * time.Millisecond,
		CleanupIntervalJobs: -1, CleanupKeepDiscarded: true,
	})
	start(t, c)
	require.Eventually(t, func() bool {
		jobs, _ := remaining(t, db.Pool, ok)
		return jobs == 0
	}, 10*time.Second, 5*time.Millisecond)
	jobs, execs := remaining(t, db.Pool, bad)
	require.Equal(t, []int{5, 5}, []int{jobs, execs})
}
