package testdb_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("SchemasAreIsolated", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		a, b := testdb.New(t), testdb.New(t)
		require.NotEqual(t, a.Schema, b.Schema)

		_, err := a.Pool.Exec(ctx, `INSERT INTO good_jobs (queue_name, scheduled_at,
			created_at, updated_at) VALUES ('only_a', now(), now(), now())`)
		require.NoError(t, err)

		var countA, countB int
		require.NoError(t, a.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&countA))
		require.NoError(t, b.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&countB))
		require.Equal(t, 1, countA)
		require.Equal(t, 0, countB)
	})

	t.Run("URLSeesSchema", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)

		conn, err := pgx.Connect(ctx, db.URL)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close(ctx) })

		var schema string
		var hasTable bool
		err = conn.QueryRow(ctx,
			"SELECT current_schema(), to_regclass('good_jobs') IS NOT NULL").
			Scan(&schema, &hasTable)
		require.NoError(t, err)
		require.Equal(t, db.Schema, schema)
		require.True(t, hasTable)
	})

	t.Run("EmptyHasNoTables", func(t *testing.T) {
		t.Parallel()
		db := testdb.NewEmpty(t)

		var tables int
		err := db.Pool.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables)
		require.NoError(t, err)
		require.Zero(t, tables)
	})
}

func TestServerURL(t *testing.T) {
	t.Parallel()

	first, err := testdb.ServerURL(t.Context())
	require.NoError(t, err)
	second, err := testdb.ServerURL(t.Context())
	require.NoError(t, err)
	require.Equal(t, first, second)
}
