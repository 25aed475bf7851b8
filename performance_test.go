package goodjob_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// execution is a good_job_executions row for the performance report.
type execution struct {
	kind, queue string
	createdAt   time.Time
	latency     time.Duration // created_at minus scheduled_at; -1: no scheduled_at
	duration    time.Duration // -1: none recorded
	err         string
	unfinished  bool
}

// insertExecutions writes the rows as GoodJob would have, in UTC.
func insertExecutions(t testing.TB, pool *pgxpool.Pool, execs ...execution) {
	t.Helper()
	for _, e := range execs {
		var scheduled, finished *time.Time
		var micros *int64
		var errText *string
		if e.latency >= 0 {
			s := e.createdAt.Add(-e.latency).UTC()
			scheduled = &s
		}
		if !e.unfinished {
			f := e.createdAt.Add(max(e.duration, 0)).UTC()
			finished = &f
		}
		if e.duration >= 0 {
			us := e.duration.Microseconds()
			micros = &us
		}
		if e.err != "" {
			errText = &e.err
		}
		_, err := pool.Exec(t.Context(), `INSERT INTO good_job_executions (created_at,
			updated_at, active_job_id, job_class, queue_name, scheduled_at, finished_at, error,
			duration)
			VALUES ($1, $1, gen_random_uuid(), $2, $3, $4, $5, $6,
				$7::int8 * interval '1 microsecond')`,
			e.createdAt.UTC(), e.kind, e.queue, scheduled, finished, errText, micros)
		require.NoError(t, err)
	}
}

func TestClient_Performance(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	// Bounds are compared in UTC whatever the session's time zone.
	pool := poolWithTimeZone(t, db.URL, "Asia/Tokyo")
	c := newClient(t, pool, goodjob.Config{})
	ctx := t.Context()
	since := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return since.Add(d) }
	insertExecutions(t, pool,
		execution{"MailJob", "mail", at(0), 2 * time.Second, time.Second, "", false},
		execution{"MailJob", "mail", at(time.Minute), 4 * time.Second, 2 * time.Second, "", false},
		execution{"MailJob", "default", at(2 * time.Minute), 0, 3 * time.Second, "E: x", false},
		execution{"MailJob", "default", at(3 * time.Minute), 6 * time.Second, 10 * time.Second,
			"", false},
		execution{"ReportJob", "default", at(4 * time.Minute), time.Second,
			500 * time.Millisecond, "Timeout: slow", false},
		execution{"ReportJob", "default", at(6 * time.Minute), -1, -1, "", false},
		// Outside: a microsecond before the window, and still running.
		execution{"MailJob", "mail", at(-time.Microsecond), 0, 100 * time.Second, "", false},
		execution{"MailJob", "mail", at(5 * time.Minute), 0, -1, "", true},
	)

	t.Run("Window", func(t *testing.T) {
		t.Parallel()
		r, err := c.Performance(ctx, goodjob.PerformanceParams{Since: since})
		require.NoError(t, err)
		require.Equal(t, since, r.Since)
		require.Equal(t, since, r.Oldest)
		require.False(t, r.Truncated)
		require.Equal(t, goodjob.PerformanceStats{
			Executions: 6, Succeeded: 4, Failed: 2,
			AvgDuration: 3300 * time.Millisecond, P50Duration: 2 * time.Second,
			P95Duration: 8600 * time.Millisecond, MaxDuration: 10 * time.Second,
			AvgLatency: 2600 * time.Millisecond,
		}, r.Total)
		require.Equal(t, []goodjob.PerformanceStats{{
			Name: "MailJob", Executions: 4, Succeeded: 3, Failed: 1,
			AvgDuration: 4 * time.Second, P50Duration: 2500 * time.Millisecond,
			P95Duration: 8950 * time.Millisecond, MaxDuration: 10 * time.Second,
			AvgLatency: 3 * time.Second,
		}, {
			// The attempt without a duration or a scheduled time counts as
			// an execution only.
			Name: "ReportJob", Executions: 2, Succeeded: 1, Failed: 1,
			AvgDuration: 500 * time.Millisecond, P50Duration: 500 * time.Millisecond,
			P95Duration: 500 * time.Millisecond, MaxDuration: 500 * time.Millisecond,
			AvgLatency: time.Second,
		}}, r.Kinds)
		require.Equal(t, []goodjob.PerformanceStats{{
			Name: "default", Executions: 4, Succeeded: 2, Failed: 2,
			AvgDuration: 4500 * time.Millisecond, P50Duration: 3 * time.Second,
			P95Duration: 9300 * time.Millisecond, MaxDuration: 10 * time.Second,
			AvgLatency: 2333333 * time.Microsecond,
		}, {
			Name: "mail", Executions: 2, Succeeded: 2,
			AvgDuration: 1500 * time.Millisecond, P50Duration: 1500 * time.Millisecond,
			P95Duration: 1950 * time.Millisecond, MaxDuration: 2 * time.Second,
			AvgLatency: 3 * time.Second,
		}}, r.Queues)
	})

	t.Run("WindowStartsLater", func(t *testing.T) {
		t.Parallel()
		r, err := c.Performance(ctx, goodjob.PerformanceParams{
			Since: at(3*time.Minute + time.Microsecond)})
		require.NoError(t, err)
		require.Equal(t, int64(2), r.Total.Executions)
		require.Equal(t, at(4*time.Minute), r.Oldest)
		require.Len(t, r.Kinds, 1)
		require.Equal(t, "ReportJob", r.Kinds[0].Name)
	})

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		r, err := c.Performance(ctx, goodjob.PerformanceParams{Since: since, Limit: 2})
		require.NoError(t, err)
		require.True(t, r.Truncated)
		require.Equal(t, at(4*time.Minute), r.Oldest, "the newest two finished attempts")
		require.Equal(t, int64(2), r.Total.Executions)
		require.Equal(t, int64(1), r.Total.Failed)

		r, err = c.Performance(ctx, goodjob.PerformanceParams{Since: since, Limit: 7})
		require.NoError(t, err)
		require.False(t, r.Truncated)
		require.Equal(t, int64(6), r.Total.Executions)

		_, err = c.Performance(ctx, goodjob.PerformanceParams{Limit: -1})
		require.ErrorIs(t, err, goodjob.ErrInvalidFilter)
	})

	t.Run("DefaultWindow", func(t *testing.T) {
		t.Parallel()
		d := newClient(t, pool, goodjob.Config{})
		goodjob.UseFakeClock(d, goodjob.NewFakeClock(at(24*time.Hour+time.Minute)))
		r, err := d.Performance(ctx, goodjob.PerformanceParams{})
		require.NoError(t, err)
		require.Equal(t, at(time.Minute), r.Since.UTC())
		require.Equal(t, int64(5), r.Total.Executions, "the first attempt is a day old")
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		r, err := c.Performance(ctx, goodjob.PerformanceParams{Since: at(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, goodjob.PerformanceStats{}, r.Total)
		require.Empty(t, r.Kinds)
		require.Empty(t, r.Queues)
		require.True(t, r.Oldest.IsZero())
		require.False(t, r.Truncated)
	})
}
