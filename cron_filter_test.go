package goodjob_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestClient_JobsCronKey: JobFilter.CronKey lists and changes the jobs one
// cron entry enqueued, and no others.
func TestClient_JobsCronKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"digest": {Cron: "@daily", Args: noopArgs{N: 1}},
		"report": {Cron: "@hourly", Args: noopArgs{N: 2}},
	}})
	var digests []uuid.UUID
	for range 2 {
		row, err := c.EnqueueCronNow(ctx, "digest")
		require.NoError(t, err)
		digests = append(digests, row.ID)
	}
	report, err := c.EnqueueCronNow(ctx, "report")
	require.NoError(t, err)
	plain, err := c.Enqueue(ctx, noopArgs{N: 3})
	require.NoError(t, err)

	f := goodjob.JobFilter{CronKey: "digest"}
	page, err := c.Jobs(ctx, f)
	require.NoError(t, err)
	var got []uuid.UUID
	for _, j := range page.Jobs {
		got = append(got, j.ID)
	}
	require.ElementsMatch(t, digests, got)
	n, err := c.CountJobs(ctx, f, 100)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	changed, err := c.DiscardJobs(ctx, f)
	require.NoError(t, err)
	require.Equal(t, 2, changed)
	for _, id := range digests {
		require.Equal(t, goodjob.JobStateDiscarded, stateOf(t, c, id))
	}
	require.Equal(t, goodjob.JobStateQueued, stateOf(t, c, report.ID))
	require.Equal(t, goodjob.JobStateQueued, stateOf(t, c, plain.ID))
}
