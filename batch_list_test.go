package goodjob_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/goodjobtest"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// batchIDs returns the ids of a page's batches, in order.
func batchIDs(page *goodjob.BatchPage) []uuid.UUID {
	var ids []uuid.UUID
	for _, b := range page.Batches {
		ids = append(ids, b.ID)
	}
	return ids
}

func TestClient_Batches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	registerMembers(t, c)
	registerCallbacks(t, c, make(chan callbackRun, 10))
	newBatch := func(p goodjob.BatchParams) *goodjob.Batch {
		t.Helper()
		b, err := c.NewBatch(ctx, p)
		require.NoError(t, err)
		return b
	}

	// mixed has a succeeded, a discarded and a pending job, and the discard
	// callback that its discarded job enqueued; it is never sealed.
	mixed := newBatch(goodjob.BatchParams{Description: "mixed", OnDiscard: discardArgs{}})
	_, err := mixed.EnqueueMany(ctx, memberJobs(0, 3, func(n int) bool { return n == 1 }))
	require.NoError(t, err)
	_, err = mixed.Enqueue(ctx, memberArgs{N: 3}, goodjob.Wait(time.Hour))
	require.NoError(t, err)
	done := newBatch(goodjob.BatchParams{Description: "done"})
	_, err = done.Enqueue(ctx, memberArgs{N: 10})
	require.NoError(t, err)
	require.NoError(t, done.Seal(ctx))
	goodjobtest.Drain(ctx, t, c)
	empty := newBatch(goodjob.BatchParams{Description: "empty",
		Properties: map[string]any{"file": "a.csv"}})
	sealedEmpty := newBatch(goodjob.BatchParams{Description: "sealed empty"})
	require.NoError(t, sealedEmpty.Seal(ctx))

	t.Run("Counts", func(t *testing.T) {
		page, err := c.Batches(ctx, goodjob.BatchFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Next)
		require.Equal(t, []uuid.UUID{sealedEmpty.ID, empty.ID, done.ID, mixed.ID},
			batchIDs(page))
		got := make(map[uuid.UUID]*goodjob.BatchStatus)
		for _, b := range page.Batches {
			got[b.ID] = b
		}

		m := got[mixed.ID]
		require.Equal(t, "mixed", m.Description)
		require.Equal(t, "BatchDiscarded", m.OnDiscard)
		require.Equal(t, [6]int{4, 1, 3, 2, 1, 1},
			[6]int{m.Jobs, m.Pending, m.Finished, m.Succeeded, m.Discarded, m.Callbacks})
		require.NotNil(t, m.DiscardedAt)
		require.Nil(t, m.EnqueuedAt)
		require.Nil(t, m.FinishedAt)

		d := got[done.ID]
		require.Equal(t, [6]int{1, 0, 1, 1, 0, 0},
			[6]int{d.Jobs, d.Pending, d.Finished, d.Succeeded, d.Discarded, d.Callbacks})
		require.NotNil(t, d.FinishedAt)

		e := got[empty.ID]
		require.Equal(t, [6]int{0, 0, 0, 0, 0, 0},
			[6]int{e.Jobs, e.Pending, e.Finished, e.Succeeded, e.Discarded, e.Callbacks})
		require.Equal(t, map[string]any{"file": "a.csv"}, e.Properties)

		// A listed batch is what BatchStatus returns for it.
		for _, b := range page.Batches {
			s, err := c.BatchStatus(ctx, b.ID)
			require.NoError(t, err)
			require.Equal(t, s, b)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		var got []uuid.UUID
		f := goodjob.BatchFilter{Limit: 3}
		for pages := 1; ; pages++ {
			page, err := c.Batches(ctx, f)
			require.NoError(t, err)
			got = append(got, batchIDs(page)...)
			if page.Next == "" {
				require.Equal(t, 2, pages)
				break
			}
			require.Len(t, page.Batches, 3)
			f.After = page.Next
		}
		require.Equal(t, []uuid.UUID{sealedEmpty.ID, empty.ID, done.ID, mixed.ID}, got)

		// The last page ends exactly at the limit: no empty page follows.
		page, err := c.Batches(ctx, goodjob.BatchFilter{Limit: 4})
		require.NoError(t, err)
		require.Empty(t, page.Next)
		require.Len(t, page.Batches, 4)
	})

	t.Run("State", func(t *testing.T) {
		cases := []struct {
			state goodjob.BatchState
			want  []uuid.UUID
		}{
			{goodjob.BatchStateOpen, []uuid.UUID{empty.ID, mixed.ID}},
			{goodjob.BatchStateFinished, []uuid.UUID{sealedEmpty.ID, done.ID}},
			{goodjob.BatchStateDiscarded, []uuid.UUID{mixed.ID}},
		}
		for _, tc := range cases {
			page, err := c.Batches(ctx, goodjob.BatchFilter{State: tc.state})
			require.NoError(t, err)
			require.Equal(t, tc.want, batchIDs(page), tc.state)
		}
	})

	t.Run("BadFilter", func(t *testing.T) {
		for _, f := range []goodjob.BatchFilter{
			{State: "bogus"}, {Limit: -1}, {After: "not-a-cursor"},
		} {
			_, err := c.Batches(ctx, f)
			require.ErrorIs(t, err, goodjob.ErrInvalidFilter, "%+v", f)
		}
	})
}

func TestClient_BatchesNone(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	page, err := c.Batches(t.Context(), goodjob.BatchFilter{})
	require.NoError(t, err)
	require.Empty(t, page.Batches)
	require.Empty(t, page.Next)
}

func TestClient_JobsBatchID(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	b, err := c.NewBatch(ctx, goodjob.BatchParams{OnDiscard: discardArgs{}})
	require.NoError(t, err)
	rows, err := b.EnqueueMany(ctx, memberJobs(0, 3, never))
	require.NoError(t, err)
	other, err := c.NewBatch(ctx, goodjob.BatchParams{})
	require.NoError(t, err)
	otherJob, err := other.Enqueue(ctx, memberArgs{N: 7})
	require.NoError(t, err)
	plain, err := c.Enqueue(ctx, memberArgs{N: 8})
	require.NoError(t, err)

	// Discarding one job of the batch enqueues its discard callback, which
	// carries the batch in batch_callback_id, not batch_id.
	require.NoError(t, c.DiscardJob(ctx, rows[0].ID))
	require.Equal(t, map[string]int{"BatchDiscarded": 1}, callbackCounts(t, db.Pool, b.ID))

	f := goodjob.JobFilter{BatchID: b.ID}
	page, err := c.Jobs(ctx, f)
	require.NoError(t, err)
	var got []uuid.UUID
	for _, j := range page.Jobs {
		got = append(got, j.ID)
	}
	require.Equal(t, []uuid.UUID{rows[2].ID, rows[1].ID, rows[0].ID}, got)
	n, err := c.CountJobs(ctx, f, 100)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)

	// CallbacksOf lists the callback instead, and nothing else.
	cbs, err := c.Jobs(ctx, goodjob.JobFilter{CallbacksOf: b.ID})
	require.NoError(t, err)
	require.Len(t, cbs.Jobs, 1)
	require.Equal(t, "BatchDiscarded", cbs.Jobs[0].Kind)
	none, err := c.Jobs(ctx, goodjob.JobFilter{CallbacksOf: other.ID})
	require.NoError(t, err)
	require.Empty(t, none.Jobs)

	// A bulk change takes BatchID as its filter and touches that batch only.
	changed, err := c.DiscardJobs(ctx, f)
	require.NoError(t, err)
	require.Equal(t, 2, changed)
	for _, r := range rows {
		require.Equal(t, goodjob.JobStateDiscarded, stateOf(t, c, r.ID))
	}
	require.Equal(t, goodjob.JobStateQueued, stateOf(t, c, otherJob.ID))
	require.Equal(t, goodjob.JobStateQueued, stateOf(t, c, plain.ID))
	cb, err := c.Jobs(ctx, goodjob.JobFilter{Kind: discardArgs{}.Kind()})
	require.NoError(t, err)
	require.Len(t, cb.Jobs, 1)
	require.Equal(t, goodjob.JobStateQueued, cb.Jobs[0].State, "the callback is not the batch's")
}

// stateOf returns the state of the job id.
func stateOf(t testing.TB, c *goodjob.Client, id uuid.UUID) goodjob.JobState {
	t.Helper()
	j, err := c.Job(t.Context(), id)
	require.NoError(t, err)
	return j.State
}
