package faulttest_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/faulttest"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// appPool opens a pool on db whose connections carry application_name app,
// so a test can find and kill them in pg_stat_activity.
func appPool(t *testing.T, db *testdb.DB, app string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.URL)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

const listenerPIDSQL = `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
	WHERE application_name = $1 AND query LIKE 'LISTEN%'`

// TestFault_KillListener kills the LISTEN connection of a Client that
// never polls: the listener must reconnect and wake-ups must work again.
func TestFault_KillListener(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	_, err := db.Pool.Exec(t.Context(), faulttest.RunsTable)
	require.NoError(t, err)
	app := "goodjob-listen-" + db.Schema
	pool := appPool(t, db, app)
	c, err := goodjob.New(pool, goodjob.Config{PollInterval: -1, Logger: testLogger(t)})
	require.NoError(t, err)
	ran := make(chan time.Time, 10)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[faulttest.Args](
		func(context.Context, *goodjob.Job[faulttest.Args]) error {
			ran <- time.Now()
			return nil
		})))
	require.NoError(t, c.Start(t.Context()))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	// A second Client enqueues, so only the notification can wake c.
	producer, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)

	first := count(t, db.Pool, listenerPIDSQL, app)
	require.NotZero(t, first)
	require.Equal(t, 1, count(t, db.Pool, `SELECT pg_terminate_backend($1)::int`, first))
	killedAt := time.Now()
	require.Eventually(t, func() bool {
		pid := count(t, db.Pool, listenerPIDSQL, app)
		return pid != 0 && pid != first
	}, 10*time.Second, 5*time.Millisecond, "listener reconnects")
	reconnected := time.Now()

	enqueued := time.Now()
	_, err = producer.Enqueue(t.Context(), faulttest.Args{})
	require.NoError(t, err)
	woke := waitForValue(t, ran, 5*time.Second, "job woken by a notification")
	t.Logf("listener killed: listening again after %s; next job started %s after enqueue",
		reconnected.Sub(killedAt).Round(time.Millisecond), woke.Sub(enqueued).Round(time.Millisecond))
	require.Less(t, woke.Sub(enqueued), time.Second, "wake-ups resumed without polling")
}

// TestFault_StopDeadline stops a Client whose jobs ignore their context:
// Stop must return by its deadline and release the jobs to another Client.
func TestFault_StopDeadline(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	enqueueFaultJobs(t, db, 3, 60_000)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck, err := goodjob.New(db.Pool, goodjob.Config{Queues: "*:3", Logger: testLogger(t)})
	require.NoError(t, err)
	started := make(chan struct{}, 3)
	require.NoError(t, goodjob.Register(stuck, goodjob.WorkFunc[faulttest.Args](
		func(context.Context, *goodjob.Job[faulttest.Args]) error {
			started <- struct{}{}
			<-release // ignores its context
			return nil
		})))
	require.NoError(t, stuck.Start(t.Context()))
	for range 3 {
		waitForValue(t, started, 10*time.Second, "job start")
	}

	// The jobs' second run is quick. The other Client never polls, so only
	// the wake-up Stop sends after releasing the jobs can start them.
	_, err = db.Pool.Exec(t.Context(), faulttest.RunsTable)
	require.NoError(t, err)
	_, err = db.Pool.Exec(t.Context(), `UPDATE good_jobs SET serialized_params =
		jsonb_set(serialized_params, '{arguments,0}', '{"sleep_ms": 1}')`)
	require.NoError(t, err)
	other, err := goodjob.New(db.Pool, goodjob.Config{PollInterval: -1, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, faulttest.Register(other, db.Pool, os.Getpid()))
	require.NoError(t, other.Start(t.Context()))
	t.Cleanup(func() { _ = other.Stop(context.Background()) })

	const deadline = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	begin := time.Now()
	err = stuck.Stop(ctx)
	took := time.Since(begin)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, took, deadline+time.Second, "Stop returns by its deadline")
	require.Equal(t, 3, count(t, db.Pool, `SELECT count(*) FROM good_job_executions
		WHERE error_event = 0`), "every job released as interrupted")

	finished := waitCount(t, db.Pool, 3, 10*time.Second, finishedSQL)
	require.Equal(t, 3, count(t, db.Pool, `SELECT count(*) FROM good_jobs
		WHERE finished_at IS NOT NULL AND error IS NULL`))
	t.Logf("stop deadline %s: Stop took %s; released jobs done %s after Stop returned",
		deadline, took.Round(time.Millisecond), finished.Sub(begin.Add(took)).Round(time.Millisecond))
}

func waitForValue[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
	panic(errors.New("unreachable"))
}
