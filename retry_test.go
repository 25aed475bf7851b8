package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestBackoff_Curves(t *testing.T) {
	t.Parallel()
	poly := goodjob.Polynomial()
	for n := 1; n <= 6; n++ {
		base := time.Duration(n*n*n*n)*time.Second + 2*time.Second
		jitter := time.Duration(float64(n*n*n*n) * 0.15 * float64(time.Second))
		for range 50 {
			d := poly(n)
			require.GreaterOrEqual(t, d, base, "failures %d", n)
			require.LessOrEqual(t, d, base+jitter, "failures %d", n)
		}
	}

	exp := goodjob.Exponential(time.Second, 10*time.Second)
	got := []time.Duration{exp(1), exp(2), exp(3), exp(4), exp(5), exp(50)}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 10 * time.Second, 10 * time.Second}, got)

	require.Equal(t, 3*time.Second, goodjob.Fixed(3*time.Second)(7))
	require.Equal(t, goodjob.RetryAttemptsDefault, goodjob.DefaultRetryPolicy().Attempts)
}

type rateLimitError struct{ RetryAfter time.Duration }

func (e *rateLimitError) Error() string { return fmt.Sprintf("rate limited for %s", e.RetryAfter) }

var errTimeout = errors.New("upstream timeout")

// execRow is one good_job_executions row.
type execRow struct {
	Error      string
	ErrorEvent *int16
	Backtrace  []string
}

func loadExecutions(t testing.TB, pool *pgxpool.Pool, activeJobID uuid.UUID) []execRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT coalesce(error, ''), error_event,
		coalesce(error_backtrace, '{}') FROM good_job_executions
		WHERE active_job_id = $1 ORDER BY created_at, finished_at`, activeJobID)
	require.NoError(t, err)
	defer rows.Close()
	var out []execRow
	for rows.Next() {
		var e execRow
		require.NoError(t, rows.Scan(&e.Error, &e.ErrorEvent, &e.Backtrace))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

// waitFinished waits until the job's finished_at is set and returns its row.
func waitFinished(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) jobState {
	t.Helper()
	var s jobState
	require.Eventually(t, func() bool {
		s = loadJob(t, pool, id)
		return s.FinishedAt != nil
	}, 15*time.Second, 10*time.Millisecond)
	return s
}

func paramsExecutions(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) (int, uuid.UUID) {
	t.Helper()
	var n int
	var active uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT
		coalesce((serialized_params->>'executions')::int, 0), active_job_id
		FROM good_jobs WHERE id = $1`, id).Scan(&n, &active))
	return n, active
}

func TestRetryOn_PicksPolicyByError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	attempts := make(chan int, 10)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			attempts <- j.Attempt
			if j.Attempt == 1 {
				return fmt.Errorf("fetch page: %w", errTimeout)
			}
			return &rateLimitError{RetryAfter: time.Hour}
		}),
		goodjob.RetryOn(goodjob.MatchIs(errTimeout),
			goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(10 * time.Millisecond)}),
		goodjob.RetryOn(goodjob.MatchAs[*rateLimitError](),
			goodjob.RetryPolicy{Attempts: 10, Wait: goodjob.Fixed(time.Hour)}),
	))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	require.Equal(t, 1, waitFor(t, attempts, 10*time.Second, "attempt 1"))
	require.Equal(t, 2, waitFor(t, attempts, 10*time.Second, "attempt 2 after a short wait"))
	var s jobState
	require.Eventually(t, func() bool {
		s = loadJob(t, db.Pool, row.ID)
		return len(loadExecutions(t, db.Pool, row.ID)) == 2 && s.LockedByID == nil
	}, 10*time.Second, 10*time.Millisecond)

	require.Nil(t, s.FinishedAt)
	require.EqualValues(t, 3, *s.ErrorEvent, "retried")
	require.Equal(t, "*goodjob_test.rateLimitError: rate limited for 1h0m0s", *s.Error)
	require.WithinDuration(t, time.Now().Add(time.Hour), s.ScheduledAt, time.Minute,
		"the rate-limit rule's long wait moved scheduled_at")
	n, active := paramsExecutions(t, db.Pool, row.ID)
	require.Equal(t, 2, n)
	require.Equal(t, row.ID, active, "a retry keeps the row and its active_job_id")

	execs := loadExecutions(t, db.Pool, row.ID)
	require.Equal(t, "error: fetch page: upstream timeout", execs[0].Error)
	require.EqualValues(t, 3, *execs[0].ErrorEvent)
}

func TestDiscardOn_CallsCallback(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	type call struct {
		info *goodjob.JobInfo
		err  error
	}
	calls := make(chan call, 2)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			return fmt.Errorf("charge card: %w", &rateLimitError{})
		}),
		goodjob.DiscardOn(goodjob.MatchAs[*rateLimitError](),
			func(_ context.Context, job *goodjob.JobInfo, err error) {
				calls <- call{job, err}
			}),
		goodjob.RetryOn(func(error) bool { return true }, goodjob.RetryPolicy{Attempts: 9}),
	))
	row, err := c.Enqueue(ctx, noopArgs{N: 7}, goodjob.Queue("payments"))
	require.NoError(t, err)
	start(t, c)

	got := waitFor(t, calls, 10*time.Second, "discard callback")
	require.Equal(t, row.ID, got.info.ID)
	require.Equal(t, "NoopJob", got.info.Kind)
	require.Equal(t, "payments", got.info.Queue)
	require.Equal(t, 1, got.info.Attempt)
	require.JSONEq(t, `{"n":7}`, string(got.info.Args))
	require.ErrorAs(t, got.err, new(*rateLimitError))

	s := waitFinished(t, db.Pool, row.ID)
	require.EqualValues(t, 5, *s.ErrorEvent, "discarded")
	require.Equal(t, 1, s.Executions, "the first matching rule wins: no retry")
}

func TestOnExhausted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{
		Retry: goodjob.RetryPolicy{Attempts: 2, Wait: goodjob.Fixed(time.Millisecond)},
	})
	exhausted := make(chan error, 2)
	var runs atomic.Int32
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			runs.Add(1)
			return errors.New("always fails")
		}),
		goodjob.OnExhausted(func(_ context.Context, _ *goodjob.JobInfo, err error) {
			exhausted <- err
		}),
	))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	require.EqualError(t, waitFor(t, exhausted, 10*time.Second, "exhausted"), "always fails")
	s := waitFinished(t, db.Pool, row.ID)
	require.EqualValues(t, 4, *s.ErrorEvent, "retry_stopped")
	require.Equal(t, "error: always fails", *s.Error)
	require.EqualValues(t, 2, runs.Load(), "Config.Retry is the default of every kind")
	events := []int16{}
	for _, e := range loadExecutions(t, db.Pool, row.ID) {
		events = append(events, *e.ErrorEvent)
	}
	require.Equal(t, []int16{3, 4}, events)
}

func TestWork_SnoozeDiscardPanic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{
		Retry: goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Millisecond)},
	})
	attempts := make(chan string, 20)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[otherArgs](
		func(_ context.Context, j *goodjob.Job[otherArgs]) error {
			attempts <- fmt.Sprintf("%s %d", j.Args.Name, j.Attempt)
			switch {
			case j.Args.Name == "snooze" && len(attempts) < 3:
				return goodjob.Snooze(5 * time.Millisecond)
			case j.Args.Name == "discard":
				return goodjob.Discard(errors.New("bad order"))
			case j.Args.Name == "panic" && j.Attempt == 1:
				panic("boom")
			}
			return nil
		})))
	start(t, c)

	snooze, err := c.Enqueue(ctx, otherArgs{Name: "snooze"})
	require.NoError(t, err)
	s := waitFinished(t, db.Pool, snooze.ID)
	require.Nil(t, s.Error)
	n, _ := paramsExecutions(t, db.Pool, snooze.ID)
	require.Zero(t, n, "a snooze is not a failure")
	require.Equal(t, "snooze 1", <-attempts)
	require.Equal(t, "snooze 1", <-attempts)
	require.Equal(t, "snooze 1", <-attempts)
	require.EqualValues(t, 3, *s.ExecutionsCount)

	discard, err := c.Enqueue(ctx, otherArgs{Name: "discard"})
	require.NoError(t, err)
	s = waitFinished(t, db.Pool, discard.ID)
	require.EqualValues(t, 5, *s.ErrorEvent)
	require.Equal(t, "error: bad order", *s.Error)
	require.Equal(t, 1, s.Executions)

	pan, err := c.Enqueue(ctx, otherArgs{Name: "panic"})
	require.NoError(t, err)
	s = waitFinished(t, db.Pool, pan.ID)
	require.Nil(t, s.Error, "the retry succeeded")
	execs := loadExecutions(t, db.Pool, pan.ID)
	require.Len(t, execs, 2)
	require.Equal(t, "*goodjob.PanicError: panic: boom", execs[0].Error)
	require.EqualValues(t, 3, *execs[0].ErrorEvent)
	require.NotEmpty(t, execs[0].Backtrace)
	require.Contains(t, fmt.Sprint(execs[0].Backtrace), "retry_test.go",
		"the backtrace holds the panicking frame")
}

func TestRegister_InvalidRules(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	work := goodjob.WorkFunc[noopArgs](func(context.Context, *goodjob.Job[noopArgs]) error {
		return nil
	})
	require.Error(t, goodjob.Register(c, work, goodjob.Retry(goodjob.RetryPolicy{})))
	require.Error(t, goodjob.Register(c, work, goodjob.RetryOn(nil, goodjob.DefaultRetryPolicy())))
	require.Error(t, goodjob.Register(c, work,
		goodjob.RetryOn(goodjob.MatchIs(errTimeout), goodjob.RetryPolicy{Attempts: 0})))
	require.Error(t, goodjob.Register(c, work, goodjob.Timeout(-time.Second)))
	require.NoError(t, goodjob.Register(c, work), "failed Registers registered nothing")

	_, err := goodjob.New(db.Pool, goodjob.Config{Retry: goodjob.RetryPolicy{Attempts: -1}})
	require.Error(t, err)
	_, err = goodjob.New(db.Pool, goodjob.Config{HeartbeatInterval: time.Minute})
	require.ErrorContains(t, err, "ProcessLease")
}
