package goodjob_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
)

// noopArgs is a job that does nothing.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "NoopJob" }

// otherArgs is a second kind, for routing tests.
type otherArgs struct {
	Name string `json:"name"`
}

func (otherArgs) Kind() string { return "OtherJob" }

// testLogger writes the Client's logs to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newClient makes a Client on pool with cfg and a test logger.
func newClient(t testing.TB, pool *pgxpool.Pool, cfg goodjob.Config) *goodjob.Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := goodjob.New(pool, cfg)
	require.NoError(t, err)
	// Cleanups run last in, first out: the pending wake-ups go out before
	// the test's pool closes, not into its log after the test has ended.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Flush(ctx))
	})
	return c
}

// start starts c and stops it when the test ends.
func start(t testing.TB, c *goodjob.Client) {
	t.Helper()
	require.NoError(t, c.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil && err != goodjob.ErrNotStarted {
			t.Errorf("stop: %v", err)
		}
	})
}

// jobState is the columns of one good_jobs row that tests look at.
type jobState struct {
	Queue           string
	Priority        *int32
	ScheduledAt     time.Time
	PerformedAt     *time.Time
	FinishedAt      *time.Time
	LockedByID      *uuid.UUID
	ExecutionsCount *int32
	Error           *string
	ErrorEvent      *int16
	Executions      int // rows in good_job_executions
}

func loadJob(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) jobState {
	t.Helper()
	var s jobState
	err := pool.QueryRow(context.Background(), `SELECT queue_name, priority, scheduled_at,
		performed_at, finished_at, locked_by_id, executions_count, error, error_event,
		(SELECT count(*) FROM good_job_executions e WHERE e.active_job_id = g.active_job_id)
		FROM good_jobs g WHERE id = $1`, id).Scan(&s.Queue, &s.Priority, &s.ScheduledAt,
		&s.PerformedAt, &s.FinishedAt, &s.LockedByID, &s.ExecutionsCount, &s.Error,
		&s.ErrorEvent, &s.Executions)
	require.NoError(t, err)
	return s
}

// waitFor receives from ch or fails the test after d.
func waitFor[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
		panic("unreachable")
	}
}

// poolWithTimeZone opens a pool whose sessions use the time zone tz.
func poolWithTimeZone(t testing.TB, url, tz string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["timezone"] = tz
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var got string
	require.NoError(t, pool.QueryRow(context.Background(), "SHOW timezone").Scan(&got))
	require.Equal(t, tz, got)
	return pool
}

// noopParams returns n no-op jobs for EnqueueMany, numbered from 0.
func noopParams(n int) []goodjob.EnqueueParams {
	params := make([]goodjob.EnqueueParams, n)
	for i := range params {
		params[i] = goodjob.EnqueueParams{Args: noopArgs{N: i}}
	}
	return params
}
