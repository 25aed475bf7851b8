package goodjob_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestControls_BatchJobsKeepUniqueAndLimits adds jobs to a batch through
// every insert path and checks that unique keys, concurrency keys and the
// enqueue limit hold there as they do for jobs outside a batch.
func TestControls_BatchJobsKeepUniqueAndLimits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, goodjob.Register(c, noopWorker,
		goodjob.Concurrency(goodjob.ConcurrencyConfig{EnqueueLimit: 3})))
	b, err := c.NewBatch(ctx, goodjob.BatchParams{Description: "controls"})
	require.NoError(t, err)

	first, err := b.Enqueue(ctx, noopArgs{N: 1}, goodjob.Unique("one"))
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	again, err := b.Enqueue(ctx, noopArgs{N: 2}, goodjob.Unique("one"))
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, b.ID, again.BatchID)

	rows, err := b.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 3}, Options: []goodjob.EnqueueOption{goodjob.Unique("one")}},
		{Args: noopArgs{N: 4}, Options: []goodjob.EnqueueOption{goodjob.Unique("two")}},
	})
	require.NoError(t, err)
	require.True(t, rows[0].Duplicate)
	require.Equal(t, first.ID, rows[0].ID)
	require.False(t, rows[1].Duplicate)

	_, err = b.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: noopArgs{N: 5}}, {Args: noopArgs{N: 6}}})
	require.ErrorIs(t, err, goodjob.ErrConcurrencyLimit, "2 queued + 2 more is over 3")

	var inBatch, keyed, uniques int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE batch_id = $1),
		count(*) FILTER (WHERE concurrency_key IS NOT NULL),
		count(*) FILTER (WHERE unique_key IS NOT NULL) FROM good_jobs`, b.ID).
		Scan(&inBatch, &keyed, &uniques))
	require.Equal(t, 2, inBatch, "both written jobs are in the batch")
	require.Equal(t, 2, keyed, "the unique inserts write the concurrency key")
	require.Equal(t, 2, uniques)

	st, err := c.BatchStatus(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, 2, st.Jobs)
}
