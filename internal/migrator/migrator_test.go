package migrator_test

import (
	"encoding/json"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/migrator"
	"github.com/goodjob-go/goodjob/internal/testdb"
	"github.com/goodjob-go/goodjob/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// candidateQuery is the shape of the worker's claim query.
const candidateQuery = `SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL AND scheduled_at <= $1
	ORDER BY priority ASC NULLS LAST, scheduled_at, id
	LIMIT 10 FOR UPDATE SKIP LOCKED`

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

	t.Run("CandidateIndexUsed", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)

		now := time.Now().UTC()
		_, err := db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, priority,
			serialized_params, scheduled_at, performed_at, finished_at,
			created_at, updated_at, job_class)
			SELECT 'default', i % 3, '{}', $1, $1, $1, $1, $1, 'Done'
			FROM generate_series(1, 20000) AS i`, now.Add(-time.Hour))
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, priority,
			serialized_params, scheduled_at, created_at, updated_at, job_class)
			SELECT 'default', i % 3, '{}', $1, $1, $1, 'Waiting'
			FROM generate_series(1, 5) AS i`, now.Add(-time.Minute))
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, "ANALYZE good_jobs")
		require.NoError(t, err)

		var plan []map[string]any
		err = db.Pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+candidateQuery, now).Scan(&plan)
		require.NoError(t, err)
		require.Len(t, plan, 1)

		var scans []string
		walkPlan(plan[0]["Plan"].(map[string]any), func(node map[string]any) {
			if rel, _ := node["Relation Name"].(string); rel == "good_jobs" {
				index, _ := node["Index Name"].(string)
				scans = append(scans, node["Node Type"].(string)+" "+index)
			}
		})
		planJSON, _ := json.MarshalIndent(plan, "", "  ")
		// The planner may pick either partial index over waiting rows; what
		// matters is that it never reads the finished ones.
		require.NotEmpty(t, scans, "plan:\n%s", planJSON)
		for _, s := range scans {
			require.Contains(t, []string{
				"Index Scan index_good_jobs_for_candidate_dequeue_unlocked",
				"Index Scan index_good_jobs_on_queue_name_priority_scheduled_at_unfinished",
			}, s, "plan:\n%s", planJSON)
		}

		// The query itself runs and returns the waiting jobs.
		rows, err := db.Pool.Query(ctx, candidateQuery, now)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Len(t, ids, 5)
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

// walkPlan calls fn for node and every node below it in an EXPLAIN plan.
func walkPlan(node map[string]any, fn func(map[string]any)) {
	fn(node)
	children, _ := node["Plans"].([]any)
	for _, c := range children {
		if child, ok := c.(map[string]any); ok {
			walkPlan(child, fn)
		}
	}
}
