package migrator_test

import (
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/jobsql"
	"github.com/goodjob-go/goodjob/internal/migrator"
	"github.com/goodjob-go/goodjob/internal/testdb"
	"github.com/goodjob-go/goodjob/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestApply(t *testing.T) {
	t.Parallel()

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.NewEmpty(t)

		// Eight pools of one connection each, like eight processes starting
		// at once.
		const callers = 8
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			cfg, err := pgxpool.ParseConfig(db.URL)
			require.NoError(t, err)
			cfg.MaxConns = 1
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)

			wg.Go(func() { errs[i] = migrator.Apply(ctx, pool) })
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "caller %d", i)
		}

		rows, err := db.Pool.Query(ctx, `SELECT version, count(*) FROM good_job_migrations
			GROUP BY version ORDER BY version`)
		require.NoError(t, err)
		var version, count int64
		var got []int64
		_, err = pgx.ForEachRow(rows, []any{&version, &count}, func() error {
			require.EqualValues(t, 1, count, "rows for version %d", version)
			got = append(got, version)
			return nil
		})
		require.NoError(t, err)
		require.Len(t, got, migrationFiles(t))
	})

	t.Run("RecordsNames", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)

		var name string
		var appliedAt time.Time
		err := db.Pool.QueryRow(ctx, `SELECT name, applied_at FROM good_job_migrations
			WHERE version = 1`).Scan(&name, &appliedAt)
		require.NoError(t, err)
		require.Equal(t, "create_good_jobs", name)
		require.WithinDuration(t, time.Now().UTC(), appliedAt, time.Minute)
	})

	// The claim statement must find waiting jobs through a partial index
	// however many finished and future rows the table holds. The sizes are
	// a fifth of the large-table benchmark's (goodjob bench --mode large),
	// enough for the planner to see a seq scan as costly.
	t.Run("CandidateIndexUsed", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)

		const finished, future, waiting = 200_000, 20_000, 5
		now := time.Now().UTC()
		_, err := db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, priority,
			serialized_params, scheduled_at, performed_at, finished_at,
			created_at, updated_at, job_class)
			SELECT 'default', 0, '{}', $1, $1, $1, $1, $1, 'NoopJob'
			FROM generate_series(1, $2) AS i`, now.Add(-time.Hour), finished)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, priority,
			serialized_params, scheduled_at, created_at, updated_at, job_class)
			SELECT 'default', 0, '{}', $1::timestamp + make_interval(secs => i), $2, $2, 'NoopJob'
			FROM generate_series(1, $3) AS i`, now.Add(time.Hour), now, future)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, priority,
			serialized_params, scheduled_at, created_at, updated_at, job_class)
			SELECT 'default', 0, '{"arguments": [{}]}', $1, $1, $1, 'NoopJob'
			FROM generate_series(1, $2) AS i`, now.Add(-time.Minute), waiting)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, "ANALYZE good_jobs")
		require.NoError(t, err)

		params := jobsql.ClaimParams{
			ProcessID: uuid.New(), Now: now, Limit: 10, Kinds: []string{"NoopJob"},
		}
		plan, err := jobsql.ExplainClaim(ctx, db.Pool, params)
		require.NoError(t, err)
		t.Logf("claim plan with %d finished and %d future rows:\n%s", finished, future, plan.Text)
		// The planner may pick either partial index over unfinished rows;
		// what matters is that it never reads the finished ones.
		require.NotEmpty(t, plan.Scans, plan.Text)
		require.True(t, plan.IndexOnly(), plan.Text)
		for _, s := range plan.Scans {
			require.Contains(t, []string{
				"Index Scan index_good_jobs_for_candidate_dequeue_unlocked",
				"Index Scan index_good_jobs_on_queue_name_priority_scheduled_at_unfinished",
				"Index Scan good_jobs_pkey",
			}, s, plan.Text)
		}
		require.Contains(t, plan.Scans, "Index Scan index_good_jobs_for_candidate_dequeue_unlocked",
			plan.Text)

		// The statement itself takes exactly the waiting jobs.
		jobs, err := jobsql.Claim(ctx, db.Pool, params)
		require.NoError(t, err)
		require.Len(t, jobs, waiting)
	})
}

func TestSQL(t *testing.T) {
	t.Parallel()

	text, err := migrator.SQL()
	require.NoError(t, err)

	entries, err := fs.ReadDir(migrations.FS, ".")
	require.NoError(t, err)
	last := -1
	for _, e := range entries {
		header := "-- goodjob migration " + e.Name() + "\n"
		at := strings.Index(text, header)
		require.GreaterOrEqual(t, at, 0, "missing header for %s", e.Name())
		require.Greater(t, at, last, "%s out of order", e.Name())
		last = at

		body, err := fs.ReadFile(migrations.FS, e.Name())
		require.NoError(t, err)
		require.Contains(t, text, string(body))
	}
	require.NotContains(t, text, "good_job_migrations")
}

// TestSQL_Applies checks that the printed SQL, run as one script by another
// tool, makes the same schema as Apply.
func TestSQL_Applies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.NewEmpty(t)

	text, err := migrator.SQL()
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, text)
	require.NoError(t, err)

	// Apply afterwards finds everything there and only records versions.
	require.NoError(t, migrator.Apply(ctx, db.Pool))
	var tables int
	err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename LIKE 'good_job%'`).Scan(&tables)
	require.NoError(t, err)
	require.Equal(t, 6, tables)
}

// migrationFiles counts the embedded migration files.
func migrationFiles(t *testing.T) int {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, ".")
	require.NoError(t, err)
	return len(entries)
}
