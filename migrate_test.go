package goodjob_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
	"github.com/goodjob-go/goodjob/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const ts6 = "timestamp(6) without time zone"

// wantColumns is GoodJob 4's column set, name to type, for each table, plus
// the nullable columns goodjob adds (good_jobs.unique_key).
var wantColumns = map[string]map[string]string{
	"good_jobs": {
		"id": "uuid", "queue_name": "text", "priority": "integer",
		"serialized_params": "jsonb", "scheduled_at": ts6, "performed_at": ts6,
		"finished_at": ts6, "error": "text", "created_at": ts6, "updated_at": ts6,
		"active_job_id": "uuid", "concurrency_key": "text", "cron_key": "text",
		"retried_good_job_id": "uuid", "cron_at": ts6, "batch_id": "uuid",
		"batch_callback_id": "uuid", "is_discrete": "boolean",
		"executions_count": "integer", "job_class": "text", "error_event": "smallint",
		"labels": "text[]", "locked_by_id": "uuid", "locked_at": ts6,
		"lock_type": "smallint", "unique_key": "text",
	},
	"good_job_executions": {
		"id": "uuid", "created_at": ts6, "updated_at": ts6, "active_job_id": "uuid",
		"job_class": "text", "queue_name": "text", "serialized_params": "jsonb",
		"scheduled_at": ts6, "finished_at": ts6, "error": "text",
		"error_event": "smallint", "error_backtrace": "text[]", "process_id": "uuid",
		"duration": "interval",
	},
	"good_job_processes": {
		"id": "uuid", "created_at": ts6, "updated_at": ts6, "state": "jsonb",
		"lock_type": "smallint",
	},
	"good_job_settings": {
		"id": "uuid", "created_at": ts6, "updated_at": ts6, "key": "text",
		"value": "jsonb",
	},
	"good_job_batches": {
		"id": "uuid", "created_at": ts6, "updated_at": ts6, "description": "text",
		"serialized_properties": "jsonb", "on_finish": "text", "on_success": "text",
		"on_discard": "text", "callback_queue_name": "text",
		"callback_priority": "integer", "enqueued_at": ts6, "discarded_at": ts6,
		"finished_at": ts6, "jobs_finished_at": ts6,
	},
}

// wantIndexes are the indexes the migrations make, by table.
var wantIndexes = map[string][]string{
	"good_jobs": {
		"good_jobs_pkey",
		"index_good_jobs_for_candidate_dequeue_unlocked",
		"index_good_jobs_on_cron_key_and_cron_at_cond",
		"index_good_jobs_on_queue_name_priority_scheduled_at_unfinished",
		"index_good_jobs_on_locked_by_id",
		"index_good_jobs_jobs_on_finished_at_only",
		"index_good_jobs_on_active_job_id_and_created_at",
		"index_good_jobs_on_concurrency_key_when_unfinished",
		"index_good_jobs_on_concurrency_key_and_created_at",
		"index_good_jobs_on_concurrency_key_and_finished_at",
		"index_good_jobs_on_batch_id",
		"index_good_jobs_on_batch_callback_id",
		"index_good_jobs_on_labels",
		"index_good_jobs_on_job_class",
		"index_good_jobs_on_discarded",
		"index_good_jobs_on_job_class_and_unique_key_unfinished",
	},
	"good_job_executions": {
		"good_job_executions_pkey",
		"index_good_job_executions_on_active_job_id_and_created_at",
		"index_good_job_executions_on_process_id_and_created_at",
		"index_good_job_executions_on_created_at",
	},
	"good_job_processes": {"good_job_processes_pkey"},
	"good_job_settings":  {"good_job_settings_pkey", "index_good_job_settings_on_key"},
	"good_job_batches":   {"good_job_batches_pkey"},
}

func TestMigrate(t *testing.T) {
	t.Parallel()

	t.Run("FreshSchema", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.NewEmpty(t)

		require.NoError(t, goodjob.Migrate(ctx, db.Pool))

		for table, want := range wantColumns {
			require.Equal(t, want, columns(t, db.Pool, table), "columns of %s", table)
		}
		indexes := indexDefs(t, db.Pool)
		for table, names := range wantIndexes {
			require.ElementsMatch(t, names, indexNames(indexes, table), "indexes of %s", table)
		}
		require.Contains(t, indexes["index_good_jobs_for_candidate_dequeue_unlocked"].def,
			"(priority, scheduled_at, id) "+
				"WHERE ((finished_at IS NULL) AND (locked_by_id IS NULL))")
		require.Contains(t, indexes["index_good_jobs_on_cron_key_and_cron_at_cond"].def,
			"CREATE UNIQUE INDEX")
		require.Contains(t, indexes["index_good_jobs_on_labels"].def, "USING gin (labels)")
		require.Contains(t, indexes["index_good_jobs_on_job_class_and_unique_key_unfinished"].def,
			"CREATE UNIQUE INDEX")
		require.Contains(t, indexes["index_good_jobs_on_job_class_and_unique_key_unfinished"].def,
			"(job_class, unique_key) "+
				"WHERE ((unique_key IS NOT NULL) AND (finished_at IS NULL))")
		require.Contains(t, indexes["index_good_job_settings_on_key"].def, "CREATE UNIQUE INDEX")

		var options []string
		err := db.Pool.QueryRow(ctx,
			"SELECT reloptions FROM pg_class WHERE oid = 'good_jobs'::regclass").Scan(&options)
		require.NoError(t, err)
		require.Contains(t, options, "autovacuum_vacuum_scale_factor=0.01")
		require.Contains(t, options, "autovacuum_analyze_scale_factor=0.02")
	})

	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.NewEmpty(t)

		require.NoError(t, goodjob.Migrate(ctx, db.Pool))
		before := indexDefs(t, db.Pool)
		var appliedAt time.Time
		err := db.Pool.QueryRow(ctx,
			"SELECT applied_at FROM good_job_migrations WHERE version = 1").Scan(&appliedAt)
		require.NoError(t, err)

		require.NoError(t, goodjob.Migrate(ctx, db.Pool))

		require.Equal(t, before, indexDefs(t, db.Pool))
		var versions []int32
		rows, err := db.Pool.Query(ctx, "SELECT version FROM good_job_migrations ORDER BY version")
		require.NoError(t, err)
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		files, err := fs.Glob(migrations.FS, "*.sql")
		require.NoError(t, err)
		want := make([]int32, len(files))
		for i, f := range files {
			v, err := strconv.Atoi(f[:4])
			require.NoError(t, err, "version of %s", f)
			want[i] = int32(v)
		}
		require.Equal(t, want, versions, "one row per migration file")

		var appliedAgain time.Time
		err = db.Pool.QueryRow(ctx,
			"SELECT applied_at FROM good_job_migrations WHERE version = 1").Scan(&appliedAgain)
		require.NoError(t, err)
		require.Equal(t, appliedAt, appliedAgain, "second Migrate must not re-apply version 1")
	})

	t.Run("ExistingGoodJobSchema", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.NewEmpty(t)

		railsSQL, err := os.ReadFile("testdata/goodjob_rails_schema.sql")
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, string(railsSQL))
		require.NoError(t, err)
		require.NotContains(t, columns(t, db.Pool, "good_jobs"), "lock_type")
		legacy := indexDefs(t, db.Pool)

		// A row as GoodJob for Rails enqueues it.
		jobID := "5b6c2a0e-8f1d-4c3a-9e7b-2d4f6a8c0e12"
		scheduledAt := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
		params := `{"job_class": "WelcomeMailJob", "job_id": "` + jobID + `",
			"provider_job_id": null, "queue_name": "mailers", "priority": null,
			"arguments": [42, {"name": "Ada", "_aj_symbol_keys": ["name"]}],
			"executions": 0, "exception_executions": {}, "locale": "en",
			"timezone": "UTC", "enqueued_at": "2025-03-04T05:06:07.123456000Z",
			"scheduled_at": "2025-03-04T05:06:07.123456000Z"}`
		_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (id, active_job_id, queue_name,
			priority, serialized_params, scheduled_at, job_class, created_at, updated_at)
			VALUES ($1, $1, 'mailers', NULL, $2, $3, 'WelcomeMailJob', $3, $3)`,
			jobID, params, scheduledAt)
		require.NoError(t, err)

		require.NoError(t, goodjob.Migrate(ctx, db.Pool))

		// The old row is intact.
		var (
			jobClass, queue string
			gotParams       map[string]any
			gotScheduled    time.Time
		)
		err = db.Pool.QueryRow(ctx, `SELECT job_class, queue_name, serialized_params, scheduled_at
			FROM good_jobs WHERE id = $1`, jobID).Scan(&jobClass, &queue, &gotParams, &gotScheduled)
		require.NoError(t, err)
		require.Equal(t, "WelcomeMailJob", jobClass)
		require.Equal(t, "mailers", queue)
		require.Equal(t, scheduledAt, gotScheduled.UTC())
		var wantParams map[string]any
		require.NoError(t, json.Unmarshal([]byte(params), &wantParams))
		require.Equal(t, wantParams, gotParams)

		// Missing columns were added, and the tables now match a fresh install.
		for table, want := range wantColumns {
			require.Equal(t, want, columns(t, db.Pool, table), "columns of %s", table)
		}

		// Indexes present under GoodJob's names were kept, not duplicated,
		// and the legacy ones were left alone.
		indexes := indexDefs(t, db.Pool)
		for name, idx := range legacy {
			require.Equal(t, idx, indexes[name], "index %s changed", name)
		}
		for table, names := range wantIndexes {
			require.Subset(t, indexNames(indexes, table), names, "indexes of %s", table)
		}
		seen := make(map[string]string)
		for name, idx := range indexes {
			shape := idx.table + " " + idx.shape
			require.NotContains(t, seen, shape, "%s duplicates %s", name, seen[shape])
			seen[shape] = name
		}
		require.Len(t, indexNames(indexes, "good_jobs"), len(wantIndexes["good_jobs"])+2)

		// A new row can use every column.
		newID := "0f1e2d3c-4b5a-4968-8776-655443322110"
		now := time.Now().UTC().Truncate(time.Microsecond)
		_, err = db.Pool.Exec(ctx, `INSERT INTO good_jobs (id, queue_name, priority,
			serialized_params, scheduled_at, performed_at, finished_at, error,
			created_at, updated_at, active_job_id, concurrency_key, cron_key,
			retried_good_job_id, cron_at, batch_id, batch_callback_id, is_discrete,
			executions_count, job_class, error_event, labels, locked_by_id, locked_at,
			lock_type)
			VALUES ($1, 'default', 0, '{"job_class": "GoJob", "arguments": [{}]}', $2,
			NULL, NULL, NULL, $2, $2, $1, 'key', 'nightly', NULL, $2,
			gen_random_uuid(), NULL, true, 0, 'GoJob', NULL, ARRAY['a', 'b'],
			gen_random_uuid(), $2, 1)`, newID, now)
		require.NoError(t, err)
		tag, err := db.Pool.Exec(ctx, `UPDATE good_jobs SET finished_at = $2, error = 'E: boom',
			error_event = 5, executions_count = 1, locked_by_id = NULL, locked_at = NULL,
			lock_type = NULL, labels = labels || ARRAY['c'], updated_at = $2 WHERE id = $1`,
			newID, now.Add(time.Second))
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())

		// The library enqueues into and works from the tables it adopted.
		c := newClient(t, db.Pool, goodjob.Config{})
		ran := make(chan noopArgs, 1)
		require.NoError(t, goodjob.Register(c, recorder(ran)))
		row, err := c.Enqueue(ctx, noopArgs{N: 7})
		require.NoError(t, err)
		start(t, c)
		require.Equal(t, 7, waitFor(t, ran, 10*time.Second, "job").N)
		require.Eventually(t, func() bool {
			return loadJob(t, db.Pool, row.ID).FinishedAt != nil
		}, 10*time.Second, 10*time.Millisecond)
	})
}

// columns returns the columns of table in the current schema, name to type.
func columns(t *testing.T, pool *pgxpool.Pool, table string) map[string]string {
	t.Helper()

	rows, err := pool.Query(context.Background(), `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace
		  AND a.attnum > 0 AND NOT a.attisdropped`, table)
	require.NoError(t, err)
	cols := make(map[string]string)
	var name, typ string
	_, err = pgx.ForEachRow(rows, []any{&name, &typ}, func() error {
		cols[name] = typ
		return nil
	})
	require.NoError(t, err)
	return cols
}

// index is one index of the current schema.
type index struct {
	table string
	def   string // pg_indexes.indexdef
	shape string // def without the index's name
}

var indexNamePattern = regexp.MustCompile(`^(CREATE (UNIQUE )?INDEX) \S+ ON `)

// indexDefs returns the indexes of the current schema by name.
func indexDefs(t *testing.T, pool *pgxpool.Pool) map[string]index {
	t.Helper()

	rows, err := pool.Query(context.Background(), `
		SELECT indexname, tablename, indexdef FROM pg_indexes
		WHERE schemaname = current_schema()`)
	require.NoError(t, err)
	indexes := make(map[string]index)
	var name, table, def string
	_, err = pgx.ForEachRow(rows, []any{&name, &table, &def}, func() error {
		shape := indexNamePattern.ReplaceAllString(def, "$1 ON ")
		indexes[name] = index{table: table, def: def, shape: shape}
		return nil
	})
	require.NoError(t, err)
	return indexes
}

// indexNames returns the names of the indexes on table.
func indexNames(indexes map[string]index, table string) []string {
	var names []string
	for name, idx := range indexes {
		if idx.table == table {
			names = append(names, name)
		}
	}
	return names
}
