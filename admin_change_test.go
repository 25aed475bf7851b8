package goodjob_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestClient_RetryJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	discarded := ids[goodjob.JobStateDiscarded]

	require.NoError(t, c.RetryJob(t.Context(), discarded))
	j, err := c.Job(t.Context(), discarded)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateQueued, j.State)
	require.Nil(t, j.FinishedAt)
	require.Nil(t, j.PerformedAt)
	require.Empty(t, j.Error)
	require.Nil(t, j.ErrorEvent)
	require.WithinDuration(t, time.Now(), j.ScheduledAt, time.Minute)

	// Once retried it is queued, so a second retry is refused.
	err = c.RetryJob(t.Context(), discarded)
	require.ErrorIs(t, err, goodjob.ErrJobState)
	var aerr *goodjob.JobActionError
	require.ErrorAs(t, err, &aerr)
	require.Equal(t, goodjob.JobStateQueued, aerr.State)
	require.Equal(t, discarded, aerr.ID)

	err = c.RetryJob(t.Context(), ids[goodjob.JobStateSucceeded])
	require.ErrorIs(t, err, goodjob.ErrJobState)
	require.ErrorIs(t, c.RetryJob(t.Context(), uuid.New()), goodjob.ErrJobNotFound)
}

func TestClient_RetryJob_WorkerRunsIt(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{PollInterval: -1})
	started := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(c, recorder(started)))
	row, err := c.Enqueue(t.Context(), noopArgs{N: 7})
	require.NoError(t, err)
	setColumns(t, db.Pool, row.ID, "finished_at = $2, error = 'E: x', error_event = 4",
		time.Now().UTC())
	start(t, c)

	require.NoError(t, c.RetryJob(t.Context(), row.ID))
	require.Equal(t, noopArgs{N: 7}, waitFor(t, started, 10*time.Second, "retried job"))
}

func TestClient_DiscardJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)

	for _, s := range []goodjob.JobState{goodjob.JobStateQueued, goodjob.JobStateScheduled,
		goodjob.JobStateRetried} {
		require.NoError(t, c.DiscardJob(t.Context(), ids[s]), "state %s", s)
		j, err := c.Job(t.Context(), ids[s])
		require.NoError(t, err)
		require.Equal(t, goodjob.JobStateDiscarded, j.State)
		require.NotNil(t, j.FinishedAt)
		require.Equal(t, goodjob.DiscardedByOperator, j.Error)
		require.Equal(t, goodjob.ErrorEventDiscarded, *j.ErrorEvent)
	}
	for _, s := range []goodjob.JobState{goodjob.JobStateSucceeded, goodjob.JobStateDiscarded} {
		require.ErrorIs(t, c.DiscardJob(t.Context(), ids[s]), goodjob.ErrJobState)
	}
}

func TestClient_RescheduleJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))

	require.NoError(t, c.RescheduleJob(t.Context(), ids[goodjob.JobStateQueued], at))
	j, err := c.Job(t.Context(), ids[goodjob.JobStateQueued])
	require.NoError(t, err)
	require.True(t, at.Equal(j.ScheduledAt), "scheduled_at %s, want %s", j.ScheduledAt, at)
	require.Equal(t, goodjob.JobStateScheduled, j.State)

	require.NoError(t, c.RescheduleJob(t.Context(), ids[goodjob.JobStateScheduled], time.Now()))
	j, err = c.Job(t.Context(), ids[goodjob.JobStateScheduled])
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateQueued, j.State)

	err = c.RescheduleJob(t.Context(), ids[goodjob.JobStateSucceeded], at)
	require.ErrorIs(t, err, goodjob.ErrJobState)
}

func TestClient_DeleteJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	row, err := c.Enqueue(t.Context(), noopArgs{N: 1})
	require.NoError(t, err)
	other, err := c.Enqueue(t.Context(), noopArgs{N: 2})
	require.NoError(t, err)
	for _, id := range []uuid.UUID{row.ID, other.ID} {
		_, err = db.Pool.Exec(t.Context(), `INSERT INTO good_job_executions
			(created_at, updated_at, active_job_id) VALUES (now(), now(), $1)`, id)
		require.NoError(t, err)
	}

	require.NoError(t, c.DeleteJob(t.Context(), row.ID))
	require.ErrorIs(t, c.DeleteJob(t.Context(), row.ID), goodjob.ErrJobNotFound)
	_, err = c.Job(t.Context(), row.ID)
	require.ErrorIs(t, err, goodjob.ErrJobNotFound)
	var execs int
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		"SELECT count(*) FROM good_job_executions WHERE active_job_id = $1", row.ID).Scan(&execs))
	require.Zero(t, execs)
	require.Equal(t, 1, loadJob(t, db.Pool, other.ID).Executions)
}

func TestClient_BulkChanges(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	jobsInStates(t, c, db.Pool)
	ctx := t.Context()

	_, err := c.DeleteJobs(ctx, goodjob.JobFilter{})
	require.ErrorIs(t, err, goodjob.ErrInvalidFilter)

	// Retry touches only the discarded job among the kind's six.
	n, err := c.RetryJobs(ctx, goodjob.JobFilter{Kind: "OtherJob"})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Discard skips finished jobs and the running (performed, unlocked
	// here) one is discardable: queued x2, scheduled, retried, running.
	n, err = c.DiscardJobs(ctx, goodjob.JobFilter{Kind: "OtherJob", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = c.DiscardJobs(ctx, goodjob.JobFilter{Kind: "OtherJob"})
	require.NoError(t, err)
	require.Equal(t, 3, n)

	n, err = c.RescheduleJobs(ctx, goodjob.JobFilter{Kind: "OtherJob"}, time.Now())
	require.NoError(t, err)
	require.Zero(t, n)

	before := time.Now().Add(time.Minute)
	n, err = c.DeleteJobs(ctx, goodjob.JobFilter{FinishedBefore: before, Limit: 4})
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = c.DeleteJobs(ctx, goodjob.JobFilter{FinishedBefore: before, Limit: 4})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Queues)
}

// TestClient_AdminRunningGuard changes a job while a live worker holds it:
// every change is refused, and the worker still finishes the job.
func TestClient_AdminRunningGuard(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	started := make(chan struct{})
	release := make(chan struct{})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			close(started)
			<-release
			return nil
		})))
	start(t, c)
	row, err := c.Enqueue(t.Context(), noopArgs{N: 1})
	require.NoError(t, err)
	waitFor(t, started, 10*time.Second, "job start")
	ctx := t.Context()

	for name, change := range map[string]func() error{
		"Retry":      func() error { return c.RetryJob(ctx, row.ID) },
		"Discard":    func() error { return c.DiscardJob(ctx, row.ID) },
		"Delete":     func() error { return c.DeleteJob(ctx, row.ID) },
		"Reschedule": func() error { return c.RescheduleJob(ctx, row.ID, time.Now()) },
	} {
		err := change()
		require.ErrorIs(t, err, goodjob.ErrJobRunning, name)
		var aerr *goodjob.JobActionError
		require.ErrorAs(t, err, &aerr)
		require.Equal(t, goodjob.JobStateRunning, aerr.State)
	}
	f := goodjob.JobFilter{Kind: "NoopJob"}
	n, err := c.DiscardJobs(ctx, f)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = c.DeleteJobs(ctx, f)
	require.NoError(t, err)
	require.Zero(t, n)

	close(release)
	require.NoError(t, c.Stop(ctx))
	j, err := c.Job(ctx, row.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateSucceeded, j.State)
}

// TestClient_BulkDiscardRacesWorkers discards jobs while workers claim
// them: every job ends either worked or discarded, never both.
func TestClient_BulkDiscardRacesWorkers(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{MaxThreads: 4})
	var mu sync.Mutex
	worked := make(map[int]bool)
	done := make(chan struct{}, 300)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			mu.Lock()
			worked[j.Args.N] = true
			mu.Unlock()
			done <- struct{}{}
			return nil
		})))
	params := noopParams(300)
	_, err := c.EnqueueMany(t.Context(), params)
	require.NoError(t, err)

	start(t, c)
	discarded := 0
	for range 5 {
		n, err := c.DiscardJobs(t.Context(), goodjob.JobFilter{Kind: "NoopJob", Limit: 20})
		require.NoError(t, err)
		discarded += n
	}
	t.Logf("discarded %d of 300 jobs while workers ran", discarded)
	for range 300 - discarded {
		waitFor(t, done, 10*time.Second, "the jobs left to work")
	}
	require.NoError(t, c.Stop(t.Context()))

	rows, err := db.Pool.Query(t.Context(), `SELECT (serialized_params->'arguments'->0->>'n')::int,
		finished_at IS NOT NULL, coalesce(error, '') FROM good_jobs`)
	require.NoError(t, err)
	states := make(map[string]int)
	for rows.Next() {
		var n int
		var finished bool
		var errText string
		require.NoError(t, rows.Scan(&n, &finished, &errText))
		require.True(t, finished, "job %d finished", n)
		if errText == goodjob.DiscardedByOperator {
			require.False(t, worked[n], "job %d was discarded and worked", n)
			states["discarded"]++
		} else {
			require.True(t, worked[n], "job %d succeeded without being worked", n)
			states["worked"]++
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, discarded, states["discarded"])
	require.Equal(t, 300, states["discarded"]+states["worked"])
}

func TestClient_AdminTx(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	ctx := t.Context()

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, c.DeleteJobTx(ctx, tx, ids[goodjob.JobStateQueued]))
	require.ErrorIs(t, c.DeleteJobTx(ctx, tx, ids[goodjob.JobStateQueued]), goodjob.ErrJobNotFound)
	require.NoError(t, tx.Rollback(ctx))
	_, err = c.Job(ctx, ids[goodjob.JobStateQueued])
	require.NoError(t, err, "a rolled-back delete leaves the job")

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	n, err := c.DiscardJobsTx(ctx, tx, goodjob.JobFilter{Queue: "q1"})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoError(t, tx.Commit(ctx))
	page, err := c.Jobs(ctx, goodjob.JobFilter{States: []goodjob.JobState{
		goodjob.JobStateDiscarded}, Queue: "q1"})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 2)

	_, err = c.RetryJobsTx(ctx, nil, goodjob.JobFilter{Queue: "q1"})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
}
