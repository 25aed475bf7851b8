package goodjob_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// storedLabels reads good_jobs.labels as stored; nil when the column is NULL.
func storedLabels(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) []string {
	t.Helper()
	var labels []string
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT labels FROM good_jobs WHERE id = $1", id).Scan(&labels))
	return labels
}

// TestLabels checks that labels are stripped, blanks dropped and repeats
// removed before they are stored, as GoodJob does, whether they come from
// the Labels option or the kind's DefaultOptions, and that the label
// filter finds the stored labels.
func TestLabels(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	noop := goodjob.WorkFunc[otherArgs](func(context.Context, *goodjob.Job[otherArgs]) error {
		return nil
	})
	require.NoError(t, goodjob.Register(c, noop,
		goodjob.DefaultOptions(goodjob.Labels(" kind ", "", "shared"))))

	byLabel := func(label string) []uuid.UUID {
		t.Helper()
		page, err := c.Jobs(ctx, goodjob.JobFilter{Label: label})
		require.NoError(t, err)
		var ids []uuid.UUID
		for _, j := range page.Jobs {
			ids = append(ids, j.ID)
		}
		return ids
	}

	t.Run("Option", func(t *testing.T) {
		row, err := c.Enqueue(ctx, noopArgs{N: 1}, goodjob.Labels(" a ", "", "b", "a", "  "))
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, row.Labels)
		require.Equal(t, []string{"a", "b"}, storedLabels(t, db.Pool, row.ID))
		require.Equal(t, []uuid.UUID{row.ID}, byLabel("a"))
		require.Equal(t, []uuid.UUID{row.ID}, byLabel("b"))
		require.Empty(t, byLabel(" a "), "the filter matches stored labels exactly")
	})

	t.Run("DefaultOptions", func(t *testing.T) {
		row, err := c.Enqueue(ctx, otherArgs{Name: "x"}, goodjob.Labels("shared ", "own"))
		require.NoError(t, err)
		require.Equal(t, []string{"kind", "shared", "own"}, storedLabels(t, db.Pool, row.ID))
		require.Equal(t, []uuid.UUID{row.ID}, byLabel("kind"))
	})

	t.Run("BlankIsNull", func(t *testing.T) {
		row, err := c.Enqueue(ctx, noopArgs{N: 2}, goodjob.Labels("", " \t "))
		require.NoError(t, err)
		require.Nil(t, row.Labels)
		var isNull bool
		require.NoError(t, db.Pool.QueryRow(ctx,
			"SELECT labels IS NULL FROM good_jobs WHERE id = $1", row.ID).Scan(&isNull))
		require.True(t, isNull)
	})

	t.Run("ArraySyntaxCharacters", func(t *testing.T) {
		odd := []string{`x,y`, `{z}`, `"q"`, `back\slash`, `NULL`}
		row, err := c.Enqueue(ctx, noopArgs{N: 3}, goodjob.Labels(odd...))
		require.NoError(t, err)
		require.Equal(t, odd, storedLabels(t, db.Pool, row.ID))
		for _, l := range odd {
			require.Equal(t, []uuid.UUID{row.ID}, byLabel(l), l)
		}
		require.Empty(t, byLabel("x"), "a comma does not split the filter")
	})

	t.Run("Unstorable", func(t *testing.T) {
		_, err := c.Enqueue(ctx, noopArgs{N: 4}, goodjob.Labels("nul\x00byte"))
		require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
		require.ErrorContains(t, err, "NUL byte")
		_, err = c.Enqueue(ctx, noopArgs{N: 4}, goodjob.Labels("\xff"))
		require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	})
}
