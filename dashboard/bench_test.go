package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// BenchmarkPages renders each page with 1,000,000 finished jobs, one a
// second over the last 11.6 days, each with one execution, and 10,000
// waiting jobs in the table.
func BenchmarkPages(b *testing.B) {
	db := testdb.New(b)
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `INSERT INTO good_jobs (id, active_job_id, queue_name,
		priority, serialized_params, scheduled_at, created_at, updated_at, performed_at,
		finished_at, error, job_class, executions_count)
		SELECT g, g, 'q' || (i % 5), 0,
			jsonb_build_object('arguments', jsonb_build_array(jsonb_build_object('n', i))),
			t, t, t, t, t + interval '1 second',
			CASE WHEN i % 100 = 0 THEN 'E: boom' END, 'Kind' || (i % 7), 1
		FROM (SELECT i, gen_random_uuid() AS g,
			now()::timestamp - make_interval(secs => i) AS t
			FROM generate_series(1, 1000000) AS i) AS s`)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (id, active_job_id, queue_name, priority,
		serialized_params, scheduled_at, created_at, updated_at, job_class, executions_count)
		SELECT g, g, 'q1', 0, '{"arguments": [{}]}', now()::timestamp, now()::timestamp,
			now()::timestamp, 'Waiting', 0
		FROM (SELECT gen_random_uuid() AS g FROM generate_series(1, 10000)) AS s`)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO good_job_executions (active_job_id, created_at,
		updated_at, job_class, queue_name, scheduled_at, finished_at, error, duration)
		SELECT id, performed_at, finished_at, job_class, queue_name, scheduled_at, finished_at,
			error, make_interval(secs => (hashtext(id::text) & 4095) / 1000.0)
		FROM good_jobs WHERE finished_at IS NOT NULL`)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, "VACUUM ANALYZE good_jobs, good_job_executions")
	require.NoError(b, err)
	var id string
	require.NoError(b, db.Pool.QueryRow(ctx,
		"SELECT id::text FROM good_jobs WHERE error IS NOT NULL LIMIT 1").Scan(&id))

	client, err := goodjob.New(db.Pool, goodjob.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(b, err)
	h := dashboard.New(client, dashboard.Config{AuthorizeFunc: allowAll,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, page := range []string{"/", "/jobs", "/jobs?state=discarded", "/jobs?queue=q3",
		"/jobs?q=boom", "/jobs/" + id, "/queues", "/processes", "/cron", "/batches",
		"/performance?window=1h", "/performance", "/performance?window=7d", "/cleaner"} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, page, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page, rec.Code, rec.Body)
				}
			}
		})
	}
}
