package goodjob_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// registerBlocking registers a worker for A that reports each start on
// started, then waits for release and returns result.
func registerBlocking[A goodjob.Args](t testing.TB, c *goodjob.Client, started chan<- A,
	release <-chan struct{}, result error) {
	t.Helper()
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[A](
		func(_ context.Context, j *goodjob.Job[A]) error {
			started <- j.Args
			<-release
			return result
		})))
}

// startBlocked starts c and returns the function that releases the
// workers registered with blocked. It also runs when the test ends, before
// c stops, so that a failed assertion does not leave a worker blocked while
// Stop waits for it.
func startBlocked(t testing.TB, c *goodjob.Client, blocked chan struct{}) func() {
	t.Helper()
	start(t, c)
	release := sync.OnceFunc(func() { close(blocked) })
	t.Cleanup(release)
	return release
}

// TestClient_ForceDiscardJob_Running force-discards a job a real worker is
// blocked in, then lets the worker finish: its completion is fenced out,
// so the row stays as the force discard left it, with one execution.
func TestClient_ForceDiscardJob_Running(t *testing.T) {
	t.Parallel()
	for name, result := range map[string]error{
		"WorkSucceeds": nil,
		"WorkFails":    errors.New("would be retried"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := testdb.New(t)
			c := newClient(t, db.Pool, goodjob.Config{})
			started := make(chan noopArgs, 1)
			blocked := make(chan struct{})
			registerBlocking(t, c, started, blocked, result)
			release := startBlocked(t, c, blocked)
			ctx := t.Context()
			row, err := c.Enqueue(ctx, noopArgs{N: 1})
			require.NoError(t, err)
			waitFor(t, started, 10*time.Second, "job start")

			require.ErrorIs(t, c.DiscardJob(ctx, row.ID), goodjob.ErrJobRunning)
			require.NoError(t, c.ForceDiscardJob(ctx, row.ID))
			discarded := loadJob(t, db.Pool, row.ID)
			require.NotNil(t, discarded.FinishedAt)
			require.Nil(t, discarded.LockedByID)
			require.Equal(t, goodjob.ForceDiscardedByOperator, *discarded.Error)
			require.EqualValues(t, goodjob.ErrorEventDiscarded, *discarded.ErrorEvent)
			require.Equal(t, 1, discarded.Executions, "the cut-off attempt is recorded")

			j, err := c.Job(ctx, row.ID)
			require.NoError(t, err)
			require.Equal(t, goodjob.JobStateDiscarded, j.State)
			require.Nil(t, j.LockedAt)
			require.Len(t, j.Executions, 1)
			e := j.Executions[0]
			require.Equal(t, goodjob.ForceDiscardedByOperator, e.Error)
			require.Equal(t, goodjob.ErrorEventDiscarded, *e.ErrorEvent)
			require.NotNil(t, e.ProcessID, "the worker's process")
			require.NotNil(t, e.FinishedAt)
			require.Equal(t, *j.PerformedAt, e.StartedAt)

			err = c.ForceDiscardJob(ctx, row.ID)
			require.ErrorIs(t, err, goodjob.ErrJobState, "already discarded")
			var aerr *goodjob.JobActionError
			require.ErrorAs(t, err, &aerr)
			require.Equal(t, "force-discard", aerr.Action)

			// Stop waits for the worker and for its completion to be written.
			release()
			require.NoError(t, c.Stop(ctx))
			after := loadJob(t, db.Pool, row.ID)
			require.Equal(t, discarded, after, "the worker's completion wrote nothing")
		})
	}
}

func TestClient_ForceDiscardJob_NotRunning(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	ctx := t.Context()

	for _, s := range []goodjob.JobState{goodjob.JobStateQueued, goodjob.JobStateScheduled,
		goodjob.JobStateRetried, goodjob.JobStateRunning} {
		require.NoError(t, c.ForceDiscardJob(ctx, ids[s]), "state %s", s)
		j := loadJob(t, db.Pool, ids[s])
		require.NotNil(t, j.FinishedAt, "state %s", s)
		require.Equal(t, goodjob.ForceDiscardedByOperator, *j.Error, "state %s", s)
		require.EqualValues(t, goodjob.ErrorEventDiscarded, *j.ErrorEvent, "state %s", s)
		require.Zero(t, j.Executions, "state %s: no worker held it, no attempt to record", s)
	}
	for _, s := range []goodjob.JobState{goodjob.JobStateSucceeded, goodjob.JobStateDiscarded} {
		err := c.ForceDiscardJob(ctx, ids[s])
		require.ErrorIs(t, err, goodjob.ErrJobState, "state %s", s)
		var aerr *goodjob.JobActionError
		require.ErrorAs(t, err, &aerr)
		require.Equal(t, s, aerr.State)
	}
	require.ErrorIs(t, c.ForceDiscardJob(ctx, uuid.New()), goodjob.ErrJobNotFound)
}

func TestClient_ForceDiscardJobTx(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ctx := t.Context()
	row, err := c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)
	// A worker of a process that hangs: locked and started, never finished.
	now := time.Now().UTC()
	setColumns(t, db.Pool, row.ID, "locked_by_id = $2, locked_at = $3, performed_at = $3",
		uuid.New(), now)

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, c.ForceDiscardJobTx(ctx, tx, row.ID))
	require.NoError(t, tx.Rollback(ctx))
	j := loadJob(t, db.Pool, row.ID)
	require.Nil(t, j.FinishedAt, "rolled back")
	require.NotNil(t, j.LockedByID)
	require.Zero(t, j.Executions)

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, c.ForceDiscardJobTx(ctx, tx, row.ID))
	require.NoError(t, tx.Commit(ctx))
	j = loadJob(t, db.Pool, row.ID)
	require.NotNil(t, j.FinishedAt)
	require.Nil(t, j.LockedByID)
	require.Equal(t, 1, j.Executions)

	require.ErrorIs(t, c.ForceDiscardJobTx(ctx, nil, row.ID), goodjob.ErrInvalidArgs)
}

// TestClient_ForceDiscardJob_Batch force-discards a batch's only job while
// its worker runs: the batch settles then, and the worker's completion
// later does not settle it again.
func TestClient_ForceDiscardJob_Batch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	runs := make(chan callbackRun, 10)
	registerCallbacks(t, c, runs)
	started := make(chan memberArgs, 1)
	blocked := make(chan struct{})
	registerBlocking(t, c, started, blocked, goodjob.Discard(errors.New("late")))
	release := startBlocked(t, c, blocked)

	b, err := c.NewBatch(ctx, goodjob.BatchParams{
		OnFinish: finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
	})
	require.NoError(t, err)
	row, err := b.Enqueue(ctx, memberArgs{N: 1})
	require.NoError(t, err)
	require.NoError(t, b.Seal(ctx))
	waitFor(t, started, 10*time.Second, "batch job start")

	require.NoError(t, c.ForceDiscardJob(ctx, row.ID))
	want := map[string]int{"BatchDiscarded": 1, "BatchFinished": 1}
	require.Equal(t, want, callbackCounts(t, db.Pool, b.ID), "settled by the force discard")
	for range 2 {
		waitFor(t, runs, 10*time.Second, "a batch callback")
	}

	release()
	require.NoError(t, c.Stop(ctx))
	require.Equal(t, want, callbackCounts(t, db.Pool, b.ID), "not settled again")
	require.Empty(t, runs)
	j := loadJob(t, db.Pool, row.ID)
	require.Equal(t, goodjob.ForceDiscardedByOperator, *j.Error)
	require.Equal(t, 1, j.Executions)
	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, s.Discarded)
	require.Equal(t, 2, s.Callbacks)
	require.NotNil(t, s.DiscardedAt)
}
