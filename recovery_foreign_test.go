package goodjob_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// railsProcessState is a good_job_processes.state document as GoodJob 4
// writes it: no "scheduler" key naming this library.
func railsProcessState(t testing.TB, id uuid.UUID) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "hostname": "rails-web-1", "pid": 4242, "proctitle": "bin/good_job",
		"preserve_job_records": true, "retry_on_unhandled_error": false,
		"schedulers": []any{map[string]any{"name": "GoodJob::Scheduler(queues=* max_threads=5)",
			"queues": "*", "max_threads": 5, "active_threads": 1}},
		"cron_enabled": false, "total_succeeded_executions_count": 7,
		"total_errored_executions_count": 0,
		"database_connection_pool":       map[string]any{"size": 5, "active": 2},
	})
	require.NoError(t, err)
	return b
}

// TestRecovery_ForeignProcesses: the sweep gives the short ProcessLease only
// to process rows this library wrote. GoodJob's rows are dead only after 5
// minutes without an update, and an advisory-heartbeat row (lock_type 0)
// whose advisory lock is held is never dead. Only dead processes lose their
// jobs.
func TestRecovery_ForeignProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{}) // the default 30 s lease
	ran := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(ran)))

	type process struct {
		n        int    // the noopArgs.N of the job it holds
		ago      string // since its updated_at
		ours     bool   // state written by this library
		lockType *int16
		held     bool // a separate session holds its advisory lock
		dead     bool
	}
	advisory := int16(0)
	processes := []process{
		{n: 1, ago: "60 seconds", ours: true, dead: true},
		{n: 2, ago: "20 seconds", ours: true},
		{n: 3, ago: "60 seconds"},
		{n: 4, ago: "6 minutes", dead: true},
		{n: 5, ago: "3 hours", lockType: &advisory, held: true},
		{n: 6, ago: "6 minutes", lockType: &advisory, dead: true},
		{n: 7, ago: "60 seconds", lockType: &advisory},
	}
	lockConn, err := pgx.Connect(ctx, db.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lockConn.Close(context.Background()) })

	ids := make(map[int]uuid.UUID)
	jobs := make(map[int]uuid.UUID)
	for _, p := range processes {
		id := uuid.New()
		state := railsProcessState(t, id)
		if p.ours {
			state = []byte(`{"lang": "go", "scheduler": "goodjob-go", "hostname": "go-1"}`)
		}
		_, err := db.Pool.Exec(ctx, `INSERT INTO good_job_processes
			(id, created_at, updated_at, state, lock_type)
			VALUES ($1, (now() AT TIME ZONE 'utc') - interval '1 day',
				(now() AT TIME ZONE 'utc') - $2::interval, $3, $4)`,
			id, p.ago, state, p.lockType)
		require.NoError(t, err)
		if p.held {
			holdGoodJobLock(t, lockConn, "good_job_processes", id)
		}
		row, err := c.Enqueue(ctx, noopArgs{N: p.n})
		require.NoError(t, err)
		lockedSince4h(t, db.Pool, row.ID, id)
		ids[p.n], jobs[p.n] = id, row.ID
	}

	// Start sweeps at once, in one statement: once the dead processes' jobs
	// ran, every row has been judged.
	start(t, c)
	got := map[int]bool{}
	for range 3 {
		got[waitFor(t, ran, 10*time.Second, "released job").N] = true
	}
	require.Equal(t, map[int]bool{1: true, 4: true, 6: true}, got)

	for _, p := range processes {
		var rows int
		require.NoError(t, db.Pool.QueryRow(ctx,
			"SELECT count(*) FROM good_job_processes WHERE id = $1", ids[p.n]).Scan(&rows))
		if p.dead {
			require.Zero(t, rows, "process %d (%s stale) was reaped", p.n, p.ago)
			continue
		}
		require.Equal(t, 1, rows, "process %d (%s stale) is alive", p.n, p.ago)
		s := loadJob(t, db.Pool, jobs[p.n])
		require.NotNil(t, s.LockedByID, "job of live process %d", p.n)
		require.Equal(t, ids[p.n], *s.LockedByID, "job of live process %d", p.n)
		require.Zero(t, s.Executions, "job of live process %d was not interrupted", p.n)
	}
}

// TestRecovery_JobAdvisoryLockHeld: a job whose GoodJob advisory lock is
// held (a Ruby worker under the advisory or hybrid strategy is running it)
// is not released, even when its locked_by_id names no process or a dead
// one.
func TestRecovery_JobAdvisoryLockHeld(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ran := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(ran)))
	lockConn, err := pgx.Connect(ctx, db.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lockConn.Close(context.Background()) })

	deadRails := uuid.New()
	_, err = db.Pool.Exec(ctx, `INSERT INTO good_job_processes
		(id, created_at, updated_at, state) VALUES ($1, (now() AT TIME ZONE 'utc') - interval
		'1 day', (now() AT TIME ZONE 'utc') - interval '6 minutes', $2)`,
		deadRails, railsProcessState(t, deadRails))
	require.NoError(t, err)
	cases := []struct {
		n      int
		owner  uuid.UUID // locked_by_id
		held   bool      // its 'good_jobs-' || id advisory lock is held
		freed  bool
		reason string
	}{
		{1, uuid.New(), true, false, "an orphan whose job lock is held"},
		{2, uuid.New(), false, true, "an orphan"},
		{3, deadRails, true, false, "a dead process's job whose job lock is held"},
		{4, deadRails, false, true, "a dead process's job"},
	}
	jobs := map[int]uuid.UUID{}
	for _, tc := range cases {
		row, err := c.Enqueue(ctx, noopArgs{N: tc.n})
		require.NoError(t, err)
		lockedSince4h(t, db.Pool, row.ID, tc.owner)
		if tc.held {
			holdGoodJobLock(t, lockConn, "good_jobs", row.ID)
		}
		jobs[tc.n] = row.ID
	}

	// One statement judges every job: once the freed ones ran, all were.
	start(t, c)
	got := map[int]bool{}
	for range 2 {
		got[waitFor(t, ran, 10*time.Second, "released job").N] = true
	}
	require.Equal(t, map[int]bool{2: true, 4: true}, got)
	for _, tc := range cases {
		if tc.freed {
			continue
		}
		s := loadJob(t, db.Pool, jobs[tc.n])
		require.NotNil(t, s.LockedByID, tc.reason)
		require.Equal(t, tc.owner, *s.LockedByID, tc.reason)
		require.Zero(t, s.Executions, "%s was not interrupted", tc.reason)
	}
	var rows int
	require.NoError(t, db.Pool.QueryRow(ctx,
		"SELECT count(*) FROM good_job_processes WHERE id = $1", deadRails).Scan(&rows))
	require.Zero(t, rows, "the dead process's row is gone all the same")
}

// lockedSince4h marks job as claimed by owner and started four hours ago.
func lockedSince4h(t testing.TB, pool *pgxpool.Pool, job, owner uuid.UUID) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `UPDATE good_jobs SET locked_by_id = $2,
		locked_at = (now() AT TIME ZONE 'utc') - interval '4 hours',
		performed_at = (now() AT TIME ZONE 'utc') - interval '4 hours' WHERE id = $1`,
		job, owner)
	require.NoError(t, err)
}

// holdGoodJobLock takes, on conn, the session advisory lock GoodJob keys
// from table || '-' || id: the first 16 hex digits of its md5.
func holdGoodJobLock(t testing.TB, conn *pgx.Conn, table string, id uuid.UUID) {
	t.Helper()
	_, err := conn.Exec(context.Background(), `SELECT pg_advisory_lock(
		('x' || left(md5($1 || '-' || $2::text), 16))::bit(64)::bigint)`, table, id)
	require.NoError(t, err)
}

// TestClient_ProcessesAlive: Processes judges each row by the rules of the
// recovery sweep, and the dashboard says which rows the sweep will reap.
func TestClient_ProcessesAlive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{}) // never started: nothing sweeps
	lockConn, err := pgx.Connect(ctx, db.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lockConn.Close(context.Background()) })

	advisory := int16(0)
	rows := []struct {
		ago      string
		ours     bool
		lockType *int16
		held     bool
		alive    bool
	}{
		{ago: "5 seconds", ours: true, alive: true},
		{ago: "60 seconds", ours: true},
		{ago: "60 seconds", alive: true},
		{ago: "6 minutes"},
		{ago: "3 hours", lockType: &advisory, held: true, alive: true},
	}
	want := map[uuid.UUID]bool{}
	for _, r := range rows {
		id := uuid.New()
		state := railsProcessState(t, id)
		if r.ours {
			state = []byte(`{"scheduler": "goodjob-go", "hostname": "go-1"}`)
		}
		_, err := db.Pool.Exec(ctx, `INSERT INTO good_job_processes
			(id, created_at, updated_at, state, lock_type)
			VALUES ($1, (now() AT TIME ZONE 'utc') - interval '1 day',
				(now() AT TIME ZONE 'utc') - $2::interval, $3, $4)`,
			id, r.ago, state, r.lockType)
		require.NoError(t, err)
		if r.held {
			holdGoodJobLock(t, lockConn, "good_job_processes", id)
		}
		want[id] = r.alive
	}
	ps, err := c.Processes(ctx)
	require.NoError(t, err)
	got := map[uuid.UUID]bool{}
	for _, p := range ps {
		got[p.ID] = p.Alive
	}
	require.Equal(t, want, got)
}
