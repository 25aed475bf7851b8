package faulttest_test

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestFault_KillWorker kills a worker process with SIGKILL in the middle of
// a run; a second process must release its jobs after the lease and finish
// everything, and only the jobs the dead process held may run twice.
func TestFault_KillWorker(t *testing.T) {
	t.Parallel()
	const jobs = 2000
	db := testdb.New(t)
	bin := buildWorker(t)
	enqueueFaultJobs(t, db, jobs, 50)

	app := "fault-kill-" + db.Schema
	first := startWorker(t, bin, db, "-queues", "*:20", "-app", app)
	waitCount(t, db.Pool, 400, 60*time.Second, finishedSQL)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited
	killedAt := time.Now()
	// A statement the killed process sent just before it died still runs to
	// its end, commit included; its backend exits only then. Read what the
	// process held once none of its backends is left.
	waitCount(t, db.Pool, 0, 30*time.Second, `SELECT CASE WHEN count(*) = 0 THEN 0 ELSE -1 END
		FROM pg_stat_activity WHERE application_name = $1`, app)

	rows, err := db.Pool.Query(t.Context(),
		`SELECT id FROM good_jobs WHERE locked_by_id = $1`, first.processID)
	require.NoError(t, err)
	held, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	require.NotEmpty(t, held, "the killed process held jobs")
	finishedAtKill := count(t, db.Pool, finishedSQL)

	startWorker(t, bin, db, "-queues", "*:20")
	released := waitCount(t, db.Pool, 0, 30*time.Second, `SELECT CASE WHEN count(*) = 0
		THEN 0 ELSE -1 END FROM good_jobs WHERE locked_by_id = $1`, first.processID)
	done := waitCount(t, db.Pool, jobs, 60*time.Second, finishedSQL)

	o := loadOutcome(t, db.Pool)
	t.Logf("kill -9: %+v; held at kill %d, finished at kill %d; released %s after the kill, "+
		"all done %s after it", o, len(held), finishedAtKill,
		released.Sub(killedAt).Round(time.Millisecond), done.Sub(killedAt).Round(time.Millisecond))
	require.Equal(t, jobs, o.Enqueued)
	require.Equal(t, jobs, o.Succeeded, "every job succeeded")
	require.Zero(t, o.Lost)
	require.Zero(t, o.RanMore)

	// The jobs it held are read again from the interrupted executions.
	rows, err = db.Pool.Query(t.Context(), `SELECT active_job_id FROM good_job_executions
		WHERE error_event = 0 AND process_id = $1`, first.processID)
	require.NoError(t, err)
	interrupted, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	require.ElementsMatch(t, held, interrupted, "one interrupted execution per held job")
	rows, err = db.Pool.Query(t.Context(), `SELECT job_id FROM fault_runs
		GROUP BY job_id HAVING count(*) > 1`)
	require.NoError(t, err)
	twice, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	for _, id := range twice {
		require.True(t, slices.Contains(interrupted, id), "job %s ran twice but was not held", id)
	}
	require.Zero(t, count(t, db.Pool, `SELECT count(*) FROM good_job_processes WHERE id = $1`,
		first.processID), "the dead process's row is deleted")
}

// TestFault_TerminateBackends kills every Postgres connection of two
// worker processes, twice, while they work; they must reconnect and
// finish every job without running any job twice at the same time.
func TestFault_TerminateBackends(t *testing.T) {
	t.Parallel()
	const jobs = 1500
	db := testdb.New(t)
	bin := buildWorker(t)
	enqueueFaultJobs(t, db, jobs, 50)
	app := "goodjob-fault-" + db.Schema
	// No process dies here: a long lease keeps a worker that is slow to
	// heartbeat on a busy machine from being judged dead by the other.
	args := []string{"-queues", "*:10", "-app", app, "-lease", "10s"}
	startWorker(t, bin, db, args...)
	startWorker(t, bin, db, args...)

	for i, at := range []int{300, 800} {
		waitCount(t, db.Pool, at, 60*time.Second, finishedSQL)
		killed := count(t, db.Pool, `SELECT count(pg_terminate_backend(pid))
			FROM pg_stat_activity WHERE application_name = $1`, app)
		termAt := time.Now()
		before := count(t, db.Pool, finishedSQL)
		resumed := waitCount(t, db.Pool, before+20, 30*time.Second, finishedSQL)
		t.Logf("terminate %d: %d backends killed; 20 more jobs finished %s later",
			i+1, killed, resumed.Sub(termAt).Round(time.Millisecond))
		require.Positive(t, killed)
	}
	waitCount(t, db.Pool, jobs, 60*time.Second, finishedSQL)

	o := loadOutcome(t, db.Pool)
	t.Logf("terminate backends: %+v; runs without a recorded end (their start was "+
		"written but reported as failed): %d", o,
		count(t, db.Pool, `SELECT count(*) FROM fault_runs WHERE ended_at IS NULL`))
	require.Equal(t, jobs, o.Succeeded, "every job succeeded")
	require.Zero(t, o.Lost)
	require.Zero(t, count(t, db.Pool, `SELECT count(*) FROM fault_runs a JOIN fault_runs b
		ON a.job_id = b.job_id AND a.id < b.id
		WHERE b.started_at < a.ended_at AND a.started_at < b.ended_at`),
		"no job ran twice at the same time")
}
