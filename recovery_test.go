package goodjob_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestRecovery_LostLeaseWritesNothing: a process whose heartbeat went stale
// loses its job to another process and cannot record the job's outcome
// afterwards, even though its Work call returns success.
func TestRecovery_LostLeaseWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	stale := newClient(t, db.Pool, goodjob.Config{
		Queues: "*:1", HeartbeatInterval: time.Hour, ProcessLease: 2 * time.Hour,
	})
	staleStarted, staleRelease := make(chan int, 1), make(chan struct{})
	require.NoError(t, goodjob.Register(stale, blockingWorker(staleStarted, staleRelease)))
	row, err := stale.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, stale)
	require.Equal(t, 1, waitFor(t, staleStarted, 10*time.Second, "first run"))
	_, err = db.Pool.Exec(ctx, `UPDATE good_job_processes
		SET updated_at = updated_at - interval '1 hour' WHERE id = $1`, stale.ProcessID())
	require.NoError(t, err)

	live := newClient(t, db.Pool, goodjob.Config{
		HeartbeatInterval: 50 * time.Millisecond, ProcessLease: time.Second,
	})
	liveStarted, liveRelease := make(chan int, 1), make(chan struct{})
	require.NoError(t, goodjob.Register(live, blockingWorker(liveStarted, liveRelease)))
	start(t, live)
	require.Equal(t, 2, waitFor(t, liveStarted, 10*time.Second, "run after recovery"),
		"the interrupted run counted as an attempt")

	close(staleRelease)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, stale.Stop(stopCtx), "the stale process's completion is flushed")
	s := loadJob(t, db.Pool, row.ID)
	require.Nil(t, s.FinishedAt, "the stale process wrote nothing")
	require.Equal(t, live.ProcessID(), *s.LockedByID)
	execs := loadExecutions(t, db.Pool, row.ID)
	require.Len(t, execs, 1)
	require.EqualValues(t, 0, *execs[0].ErrorEvent, "interrupted")
	require.Contains(t, execs[0].Error, "goodjob.ErrInterrupted: ")
	var owner uuid.UUID
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT process_id FROM good_job_executions
		WHERE active_job_id = $1`, row.ID).Scan(&owner))
	require.Equal(t, stale.ProcessID(), owner, "the interrupted run names its process")

	close(liveRelease)
	s = waitFinished(t, db.Pool, row.ID)
	require.Nil(t, s.Error)
	require.Equal(t, 2, s.Executions)
	var processes int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM good_job_processes
		WHERE id = $1`, stale.ProcessID()).Scan(&processes))
	require.Zero(t, processes, "the stale process row was deleted")
}

// blockingWorker reports each attempt on started and returns once release
// is closed, ignoring its context.
func blockingWorker(started chan<- int, release <-chan struct{}) goodjob.Worker[noopArgs] {
	return goodjob.WorkFunc[noopArgs](func(_ context.Context, j *goodjob.Job[noopArgs]) error {
		started <- j.Attempt
		<-release
		return nil
	})
}

// TestRecovery_Orphans releases jobs whose locked_by_id names no process at
// all, once they have been locked for longer than the lease, and gives up
// a job whose interrupted runs used every attempt.
func TestRecovery_Orphans(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{
		HeartbeatInterval: 50 * time.Millisecond, ProcessLease: time.Second,
	})
	ran := make(chan noopArgs, 10)
	exhausted := make(chan error, 1)
	require.NoError(t, goodjob.Register(c, recorder(ran),
		goodjob.OnExhausted(func(_ context.Context, _ *goodjob.JobInfo, err error) {
			exhausted <- err
		})))

	orphan, err := c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)
	recent, err := c.Enqueue(ctx, noopArgs{N: 2})
	require.NoError(t, err)
	worn, err := c.Enqueue(ctx, noopArgs{N: 3})
	require.NoError(t, err)
	lock := `UPDATE good_jobs SET locked_by_id = $2, performed_at = locked_at,
		locked_at = (now() AT TIME ZONE 'utc') - $3::interval WHERE id = $1`
	for _, l := range []struct {
		id  uuid.UUID
		ago string
	}{{orphan.ID, "1 hour"}, {recent.ID, "0 seconds"}, {worn.ID, "1 hour"}} {
		_, err = db.Pool.Exec(ctx, lock, l.id, uuid.New(), l.ago)
		require.NoError(t, err)
	}
	_, err = db.Pool.Exec(ctx, `UPDATE good_jobs SET serialized_params =
		jsonb_set(serialized_params, '{executions}', '4') WHERE id = $1`, worn.ID)
	require.NoError(t, err)
	start(t, c)

	require.Equal(t, 1, waitFor(t, ran, 10*time.Second, "orphaned job").N)
	require.ErrorIs(t, waitFor(t, exhausted, 10*time.Second, "worn job given up"),
		goodjob.ErrInterrupted)
	s := waitFinished(t, db.Pool, worn.ID)
	require.EqualValues(t, 4, *s.ErrorEvent, "retry_stopped")
	require.Contains(t, *s.Error, "goodjob.ErrInterrupted")
	require.NotNil(t, loadJob(t, db.Pool, recent.ID).LockedByID,
		"a job locked within the lease is left alone")
	select {
	case a := <-ran:
		require.Failf(t, "unexpected run", "job %d ran", a.N)
	default:
	}
}

// TestRecovery_LostClaim: a job locked by this very process that no
// goroutine runs (its claim committed but the reply was lost with a killed
// connection) is released once it has been locked longer than the lease.
func TestRecovery_LostClaim(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{
		HeartbeatInterval: 50 * time.Millisecond, ProcessLease: time.Second, PollInterval: -1,
	})
	ran := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(c, recorder(ran)))
	start(t, c)
	row, err := c.Enqueue(ctx, noopArgs{N: 9}, goodjob.Wait(time.Hour))
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE good_jobs SET locked_by_id = $2,
		scheduled_at = (now() AT TIME ZONE 'utc') - interval '1 hour',
		locked_at = (now() AT TIME ZONE 'utc') - interval '1 hour' WHERE id = $1`,
		row.ID, c.ProcessID())
	require.NoError(t, err)

	require.Equal(t, 9, waitFor(t, ran, 10*time.Second, "released job").N)
	s := waitFinished(t, db.Pool, row.ID)
	require.Nil(t, s.Error)
	n, _ := paramsExecutions(t, db.Pool, row.ID)
	require.Zero(t, n, "a job that never ran used no attempt")
}
