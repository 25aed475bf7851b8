package goodjob_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestProgressAndResult(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})

	halfway := make(chan struct{})
	proceed := make(chan struct{})
	workErr := make(chan error, 1)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, j *goodjob.Job[noopArgs]) error {
			id, ok := goodjob.JobID(ctx)
			if !ok || id != j.ID {
				workErr <- context.Canceled
			}
			if err := goodjob.SetProgress(ctx, 50, "halfway"); err != nil {
				return err
			}
			if err := goodjob.SetResult(ctx, map[string]int{"rows": 10}); err != nil {
				return err
			}
			close(halfway)
			<-proceed
			if err := goodjob.SetProgress(ctx, 101, "too far"); err == nil {
				workErr <- context.DeadlineExceeded
			}
			return goodjob.SetResult(ctx, map[string]bool{"ok": true})
		})))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	waitFor(t, halfway, 10*time.Second, "progress")
	var progress struct {
		Percent float64 `json:"percent"`
		Message string  `json:"message"`
	}
	var raw []byte
	require.NoError(t, db.Pool.QueryRow(ctx,
		"SELECT serialized_params->'goodjob_progress' FROM good_jobs WHERE id = $1",
		row.ID).Scan(&raw))
	require.NoError(t, json.Unmarshal(raw, &progress))
	require.Equal(t, 50.0, progress.Percent)
	require.Equal(t, "halfway", progress.Message)
	close(proceed)

	require.Eventually(t, func() bool {
		return loadJob(t, db.Pool, row.ID).FinishedAt != nil
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, db.Pool.QueryRow(ctx,
		"SELECT serialized_params->'goodjob_result' FROM good_jobs WHERE id = $1",
		row.ID).Scan(&raw))
	require.JSONEq(t, `{"rows": 10, "ok": true}`, string(raw), "results add up")
	select {
	case err := <-workErr:
		t.Fatalf("inside Work: %v", err)
	default:
	}

	require.ErrorIs(t, goodjob.SetProgress(ctx, 1, "x"), goodjob.ErrNotInJob)
	require.ErrorIs(t, goodjob.SetResult(ctx, 1), goodjob.ErrNotInJob)
}
