package goodjob_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// setColumns updates one job's row directly, to put it in a given state.
func setColumns(t testing.TB, pool *pgxpool.Pool, id uuid.UUID, set string, args ...any) {
	t.Helper()
	tag, err := pool.Exec(context.Background(),
		"UPDATE good_jobs SET "+set+" WHERE id = $1", append([]any{id}, args...)...)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}

// jobsInStates enqueues one job per state and shapes its columns the way
// GoodJob would have left them. Times are written in UTC while the session
// time zone is not UTC, as the schema requires.
func jobsInStates(t *testing.T, c *goodjob.Client, pool *pgxpool.Pool) map[goodjob.JobState]uuid.UUID {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	ids := make(map[goodjob.JobState]uuid.UUID)
	enqueue := func(s goodjob.JobState, opts ...goodjob.EnqueueOption) uuid.UUID {
		row, err := c.Enqueue(ctx, otherArgs{Name: string(s)}, opts...)
		require.NoError(t, err)
		ids[s] = row.ID
		return row.ID
	}
	enqueue(goodjob.JobStateQueued, goodjob.Queue("q1"))
	enqueue(goodjob.JobStateScheduled, goodjob.Queue("q1"), goodjob.Wait(time.Hour))
	id := enqueue(goodjob.JobStateRetried, goodjob.Queue("q2"), goodjob.Wait(time.Hour))
	setColumns(t, pool, id, `serialized_params = jsonb_set(serialized_params, '{executions}', '2'),
		error = 'E: failed', error_event = 3`)
	id = enqueue(goodjob.JobStateRunning, goodjob.Queue("q2"))
	setColumns(t, pool, id, "performed_at = $2", now)
	id = enqueue(goodjob.JobStateSucceeded, goodjob.Queue("q2"))
	setColumns(t, pool, id, "performed_at = $2, finished_at = $2", now)
	id = enqueue(goodjob.JobStateDiscarded, goodjob.Queue("q2"), goodjob.Labels("bad"))
	setColumns(t, pool, id, "performed_at = $2, finished_at = $2, error = 'E: boom', error_event = 4",
		now)
	return ids
}

func TestClient_JobStates(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	pool := poolWithTimeZone(t, db.URL, "America/New_York")
	c := newClient(t, pool, goodjob.Config{})
	ids := jobsInStates(t, c, pool)

	// A retried job waiting for its first retry has executions 1: GoodJob
	// still shows it as scheduled.
	first, err := c.Enqueue(t.Context(), otherArgs{Name: "first-retry"}, goodjob.Wait(time.Hour))
	require.NoError(t, err)
	setColumns(t, pool, first.ID,
		`serialized_params = jsonb_set(serialized_params, '{executions}', '1')`)

	for _, s := range goodjob.JobStates {
		page, err := c.Jobs(t.Context(), goodjob.JobFilter{States: []goodjob.JobState{s}})
		require.NoError(t, err)
		var got []uuid.UUID
		for _, j := range page.Jobs {
			require.Equal(t, s, j.State)
			got = append(got, j.ID)
		}
		want := []uuid.UUID{ids[s]}
		if s == goodjob.JobStateScheduled {
			want = []uuid.UUID{first.ID, ids[s]}
		}
		require.Equal(t, want, got, "state %s", s)
	}

	_, err = c.Jobs(t.Context(), goodjob.JobFilter{States: []goodjob.JobState{"done"}})
	require.ErrorIs(t, err, goodjob.ErrInvalidFilter)
}

func TestClient_Stats(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	setColumns(t, db.Pool, ids[goodjob.JobStateQueued], "scheduled_at = $2",
		time.Now().UTC().Add(-time.Hour))

	st, err := c.Stats(t.Context())
	require.NoError(t, err)
	for _, s := range goodjob.JobStates {
		require.EqualValues(t, 1, st.States[s], "state %s", s)
	}
	require.EqualValues(t, 2, st.FinishedToday)
	require.InDelta(t, time.Hour.Seconds(), st.OldestQueuedAge.Seconds(), 60)

	require.Len(t, st.Queues, 2)
	require.Equal(t, "q1", st.Queues[0].Queue)
	require.EqualValues(t, 1, st.Queues[0].States[goodjob.JobStateQueued])
	require.EqualValues(t, 1, st.Queues[0].States[goodjob.JobStateScheduled])
	require.EqualValues(t, 0, st.Queues[0].States[goodjob.JobStateRunning])
	require.Equal(t, "q2", st.Queues[1].Queue)
	require.EqualValues(t, 2, st.Queues[1].FinishedToday)
	require.Zero(t, st.Queues[1].OldestQueuedAge)
}

func TestClient_StatsKinds(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	jobsInStates(t, c, db.Pool) // OtherJob: one job in each state
	now := time.Now().UTC()
	var noop []uuid.UUID
	for range 3 {
		row, err := c.Enqueue(t.Context(), noopArgs{})
		require.NoError(t, err)
		noop = append(noop, row.ID)
	}
	setColumns(t, db.Pool, noop[0], "scheduled_at = $2", now.Add(-time.Hour))
	setColumns(t, db.Pool, noop[1], "performed_at = $2", now)

	st, err := c.Stats(t.Context())
	require.NoError(t, err)
	require.Len(t, st.Kinds, 2, "finished jobs are left out, not counted as zero")
	require.InDelta(t, time.Hour.Seconds(), st.Kinds[0].OldestQueuedAge.Seconds(), 60)
	require.Less(t, st.Kinds[1].OldestQueuedAge, time.Minute)
	st.Kinds[0].OldestQueuedAge, st.Kinds[1].OldestQueuedAge = 0, 0
	require.Equal(t, []goodjob.KindStats{
		{Kind: "NoopJob", Queued: 2, Running: 1},
		{Kind: "OtherJob", Queued: 1, Scheduled: 1, Retried: 1, Running: 1},
	}, st.Kinds)

	setColumns(t, db.Pool, noop[1], "finished_at = $2", now)
	st, err = c.Stats(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 0, st.Kinds[0].Running, "a finished job leaves its kind's counts")
}

func TestClient_JobsPages(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	var want []uuid.UUID
	for i := range 7 {
		row, err := c.Enqueue(t.Context(), noopArgs{N: i})
		require.NoError(t, err)
		want = append([]uuid.UUID{row.ID}, want...) // newest first
	}

	var got []uuid.UUID
	f := goodjob.JobFilter{Limit: 3}
	for pages := 1; ; pages++ {
		page, err := c.Jobs(t.Context(), f)
		require.NoError(t, err)
		for _, j := range page.Jobs {
			got = append(got, j.ID)
		}
		if page.Next == "" {
			require.Equal(t, 3, pages)
			break
		}
		// A job enqueued between pages goes on the first page, not this one.
		_, err = c.Enqueue(t.Context(), noopArgs{N: 100 + pages})
		require.NoError(t, err)
		f.After = page.Next
	}
	require.Equal(t, want, got)

	_, err := c.Jobs(t.Context(), goodjob.JobFilter{After: "not-a-cursor"})
	require.ErrorIs(t, err, goodjob.ErrInvalidFilter)
}

func TestClient_JobsFilter(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ids := jobsInStates(t, c, db.Pool)
	noop, err := c.Enqueue(t.Context(), noopArgs{N: 42}, goodjob.Queue("q1"))
	require.NoError(t, err)

	cases := []struct {
		name string
		f    goodjob.JobFilter
		want []uuid.UUID
	}{
		{"Queue", goodjob.JobFilter{Queue: "q1"},
			[]uuid.UUID{noop.ID, ids[goodjob.JobStateScheduled], ids[goodjob.JobStateQueued]}},
		{"Kind", goodjob.JobFilter{Kind: "NoopJob"}, []uuid.UUID{noop.ID}},
		{"Label", goodjob.JobFilter{Label: "bad"}, []uuid.UUID{ids[goodjob.JobStateDiscarded]}},
		{"SearchArgs", goodjob.JobFilter{Search: "SUCCEEDED"},
			[]uuid.UUID{ids[goodjob.JobStateSucceeded]}},
		{"SearchError", goodjob.JobFilter{Search: "boom"},
			[]uuid.UUID{ids[goodjob.JobStateDiscarded]}},
		{"SearchLikeChars", goodjob.JobFilter{Search: "%"}, nil},
		{"Combined", goodjob.JobFilter{Queue: "q1", States: []goodjob.JobState{
			goodjob.JobStateQueued, goodjob.JobStateRunning}},
			[]uuid.UUID{noop.ID, ids[goodjob.JobStateQueued]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := c.Jobs(t.Context(), tc.f)
			require.NoError(t, err)
			var got []uuid.UUID
			for _, j := range page.Jobs {
				got = append(got, j.ID)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestClient_Job(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	done := make(chan struct{}, 2)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			defer func() { done <- struct{}{} }()
			if j.Attempt == 1 {
				return errors.New("first try fails")
			}
			return nil
		}), goodjob.Retry(goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Millisecond)})))
	start(t, c)
	row, err := c.Enqueue(t.Context(), noopArgs{N: 1}, goodjob.Labels("a"))
	require.NoError(t, err)
	waitFor(t, done, 10*time.Second, "first attempt")
	waitFor(t, done, 10*time.Second, "second attempt")
	require.NoError(t, c.Stop(t.Context()))

	j, err := c.Job(t.Context(), row.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateSucceeded, j.State)
	require.Equal(t, []string{"a"}, j.Labels)
	require.JSONEq(t, `{"n":1}`, string(j.Args))
	require.Len(t, j.Executions, 2)
	require.Contains(t, j.Executions[0].Error, "first try fails")
	require.Equal(t, goodjob.ErrorEventRetried, *j.Executions[0].ErrorEvent)
	require.Empty(t, j.Executions[1].Error)
	require.NotNil(t, j.Executions[1].FinishedAt)
	require.Equal(t, c.ProcessID(), *j.Executions[1].ProcessID)
	require.False(t, j.Executions[1].StartedAt.Before(j.Executions[0].StartedAt))

	_, err = c.Job(t.Context(), uuid.New())
	require.ErrorIs(t, err, goodjob.ErrJobNotFound)
}
