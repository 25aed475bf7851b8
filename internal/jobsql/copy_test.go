package jobsql_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/jobsql"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestCopyMany_SameRowsAsInsertMany writes the same jobs through the
// hand-encoded COPY and through InsertMany, whose values pgx encodes, and
// compares every column the two write.
func TestCopyMany_SameRowsAsInsertMany(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	key, batch, callback := "tenant-é-1", uuid.New(), uuid.New()
	created := time.Date(2026, 12, 4, 8, 1, 2, 345678912, time.UTC)
	jobs := []jobsql.InsertParams{
		{Kind: "Mail", Queue: "default", SerializedParams: []byte(`{"arguments":[{"n":1}]}`),
			ScheduledAt: created, CreatedAt: created},
		{Kind: "Ünïcode <Kind>", Queue: "q with spaces", Priority: -42,
			SerializedParams: []byte(`{"arguments":[{"s":"ümlaut \u003c"}],"x":[1.5,null]}`),
			ScheduledAt:      created.Add(36 * time.Hour), CreatedAt: created,
			Labels: []string{"a", "", "lâbel,with\"quote"}, ConcurrencyKey: &key,
			BatchID: &batch, BatchCallbackID: &callback},
		{Kind: "Old", Queue: "default", Priority: 2147483647,
			SerializedParams: []byte(`{}`), Labels: []string{"one"},
			ScheduledAt: time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			CreatedAt:   created},
	}
	copied := withIDs(jobs)
	inserted := withIDs(jobs)
	require.NoError(t, copyMany(ctx, db.Pool, copied))
	require.NoError(t, jobsql.InsertMany(ctx, db.Pool, inserted))
	for i := range jobs {
		var same bool
		var a, b string
		require.NoError(t, db.Pool.QueryRow(ctx, `
			WITH r AS (SELECT id, to_jsonb(g) - 'id' - 'active_job_id' AS j,
				id = active_job_id AS own FROM good_jobs g)
			SELECT x.j = y.j AND x.own AND y.own, x.j::text, y.j::text
			FROM r x, r y WHERE x.id = $1 AND y.id = $2`,
			copied[i].ID, inserted[i].ID).Scan(&same, &a, &b))
		require.True(t, same, "job %d:\nCOPY:   %s\nINSERT: %s", i, a, b)
	}
	var labels []string
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT labels FROM good_jobs WHERE id = $1",
		copied[1].ID).Scan(&labels))
	require.Equal(t, jobs[1].Labels, labels)
}

func withIDs(ps []jobsql.InsertParams) []jobsql.InsertParams {
	out := make([]jobsql.InsertParams, len(ps))
	for i, p := range ps {
		p.ID = uuid.Must(uuid.NewV7())
		out[i] = p
	}
	return out
}

func copyMany(ctx context.Context, pool *pgxpool.Pool, ps []jobsql.InsertParams) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return jobsql.CopyMany(ctx, conn.Conn().PgConn(), ps)
}
