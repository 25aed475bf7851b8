package goodjob_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestProcesses(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{Queues: "a:2;b:3"})
	start(t, c)
	ps, err := c.Processes(t.Context())
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, c.ProcessID(), ps[0].ID)
	require.Equal(t, "a:2;b:3", ps[0].Queues)
	require.Equal(t, 5, ps[0].Threads)
	require.NotZero(t, ps[0].PID)
	require.WithinDuration(t, time.Now(), ps[0].HeartbeatAt, time.Minute)
}

func TestFinishedPerMinute(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	now := time.Now().UTC()
	_, err := db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, serialized_params,
		scheduled_at, created_at, updated_at, finished_at, error, job_class)
		SELECT 'default', '{}', $1::timestamp, $1, $1, $1::timestamp - make_interval(mins => i % 3),
			CASE WHEN i % 4 = 0 THEN 'E: x' END, 'Done'
		FROM generate_series(1, 12) AS i`, now)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, serialized_params,
		scheduled_at, created_at, updated_at, finished_at, job_class)
		VALUES ('default', '{}', $1::timestamp, $1, $1, $1::timestamp - interval '2 hours', 'Old')`, now)
	require.NoError(t, err)

	points, err := c.FinishedPerMinute(ctx, time.Hour)
	require.NoError(t, err)
	require.Len(t, points, 60)
	var succeeded, discarded int64
	for _, p := range points {
		succeeded += p.Succeeded
		discarded += p.Discarded
	}
	require.EqualValues(t, 9, succeeded)
	require.EqualValues(t, 3, discarded)
	for _, p := range points {
		if p.Minute.Equal(now.Truncate(time.Minute)) {
			require.EqualValues(t, 4, p.Succeeded+p.Discarded, "i%%3 == 0: 3, 6, 9, 12")
			return
		}
	}
	t.Fatalf("no point for the minute of %v", now)
}

func TestOverview_LargeTableEstimates(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	_, err := db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, serialized_params,
		scheduled_at, created_at, updated_at, finished_at, error, job_class)
		SELECT 'q', '{}', $1::timestamp, $1, $1, $1::timestamp - interval '2 days',
			CASE WHEN i <= 7 THEN 'E: x' END, 'Done'
		FROM generate_series(1, 120000) AS i`, time.Now().UTC())
	require.NoError(t, err)
	for range 3 {
		_, err := c.Enqueue(ctx, noopArgs{}, goodjob.Queue("q"))
		require.NoError(t, err)
	}
	_, err = db.Pool.Exec(ctx, "ANALYZE good_jobs")
	require.NoError(t, err)

	st, err := c.Overview(ctx)
	require.NoError(t, err)
	require.True(t, st.Estimated)
	require.EqualValues(t, 3, st.States[goodjob.JobStateQueued], "exact")
	require.EqualValues(t, 7, st.States[goodjob.JobStateDiscarded], "exact")
	require.InEpsilon(t, 119993, st.States[goodjob.JobStateSucceeded], 0.05)
	require.Len(t, st.Kinds, 1, "the finished Done jobs are left out")
	require.Equal(t, "NoopJob", st.Kinds[0].Kind)
	require.EqualValues(t, 3, st.Kinds[0].Queued)

	exact, err := c.Stats(ctx)
	require.NoError(t, err)
	require.False(t, exact.Estimated)
	require.EqualValues(t, 119993, exact.States[goodjob.JobStateSucceeded])
}
