package goodjob_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// insertFinished writes a job that finished at the given time, discarded
// when errText is not empty. A zero finishedAt leaves it unfinished.
func insertFinished(t testing.TB, pool *pgxpool.Pool, kind, errText string,
	finishedAt time.Time) {
	t.Helper()
	var finished *time.Time
	if !finishedAt.IsZero() {
		f := finishedAt.UTC()
		finished = &f
	}
	var errCol *string
	if errText != "" {
		errCol = &errText
	}
	created := finishedAt.Add(-time.Minute).UTC()
	if finishedAt.IsZero() {
		created = time.Now().UTC()
	}
	_, err := pool.Exec(t.Context(), `INSERT INTO good_jobs (id, active_job_id, job_class,
		queue_name, serialized_params, scheduled_at, created_at, updated_at, finished_at,
		error, executions_count)
		SELECT g, g, $1, 'default', '{"arguments": [{}]}', $2, $2, $2, $3, $4, 1
		FROM gen_random_uuid() AS g`, kind, created, finished, errCol)
	require.NoError(t, err)
}

func TestClient_DiscardedSummary(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	pool := poolWithTimeZone(t, db.URL, "America/Los_Angeles")
	c := newClient(t, pool, goodjob.Config{})
	now := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	goodjob.UseFakeClock(c, goodjob.NewFakeClock(now))
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const day = 24 * time.Hour

	// Each window includes its bound and excludes a microsecond earlier.
	insertFinished(t, pool, "FetchJob", "Net::ReadTimeout: slow", ago(time.Hour))
	insertFinished(t, pool, "FetchJob", "Net::ReadTimeout: slower",
		ago(time.Hour+time.Microsecond))
	insertFinished(t, pool, "MailJob", "Net::ReadTimeout: just now", ago(time.Minute))
	insertFinished(t, pool, "MailJob", "ArgumentError: bad", ago(day))
	insertFinished(t, pool, "FetchJob", "ArgumentError: a: b", ago(7*day))
	insertFinished(t, pool, "MailJob", "no colon here", ago(3*day+time.Microsecond))
	// Left out: older than a week, succeeded, and failed but not finished.
	insertFinished(t, pool, "MailJob", "ArgumentError: old", ago(7*day+time.Microsecond))
	insertFinished(t, pool, "MailJob", "", ago(time.Minute))
	insertFinished(t, pool, "MailJob", "Net::ReadTimeout: retrying", time.Time{})

	s, err := c.DiscardedSummary(t.Context())
	require.NoError(t, err)
	require.Equal(t, now, s.Now)
	require.Equal(t, []time.Duration{time.Hour, 3 * time.Hour, day, 3 * day, 7 * day},
		s.Windows)
	require.Equal(t, []goodjob.DiscardedGroup{
		{Name: "Net::ReadTimeout", Counts: []int64{2, 3, 3, 3, 3}},
		{Name: "ArgumentError", Counts: []int64{0, 0, 1, 1, 2}},
		{Name: "no colon here", Counts: []int64{0, 0, 0, 0, 1}},
	}, s.ByErrorClass)
	require.Equal(t, []goodjob.DiscardedGroup{
		{Name: "FetchJob", Counts: []int64{1, 2, 2, 2, 3}},
		{Name: "MailJob", Counts: []int64{1, 1, 2, 2, 3}},
	}, s.ByKind)

	empty := newClient(t, pool, goodjob.Config{})
	goodjob.UseFakeClock(empty, goodjob.NewFakeClock(now.Add(30*day)))
	s, err = empty.DiscardedSummary(t.Context())
	require.NoError(t, err)
	require.Empty(t, s.ByErrorClass)
	require.Empty(t, s.ByKind)
}
