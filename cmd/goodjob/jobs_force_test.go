package main_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
)

func TestCLI_JobsForceDiscard(t *testing.T) {
	t.Parallel()
	db, c, env := setup(t)
	ctx := t.Context()
	stuck, err := c.Enqueue(ctx, emailArgs{To: "stuck"})
	require.NoError(t, err)
	// Held by a worker of a process that hangs.
	_, err = db.Pool.Exec(ctx, `UPDATE good_jobs SET locked_by_id = $2, locked_at = $3,
		performed_at = $3 WHERE id = $1`, stuck.ID, uuid.New(), time.Now().UTC())
	require.NoError(t, err)
	id := stuck.ID.String()

	r := run(t, env, "jobs", "discard", id)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "job is running (state running); wait for the attempt to "+
		"end, or discard it with --force")

	r = run(t, env, "jobs", "discard", "--force", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "force-discarded "+id+"\n", r.stdout)
	j, err := c.Job(ctx, stuck.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateDiscarded, j.State)
	require.Equal(t, goodjob.ForceDiscardedByOperator, j.Error)
	require.Nil(t, j.LockedAt)

	r = run(t, env, "jobs", "discard", "--force", id)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "force-discard job "+id+": goodjob: job state does not "+
		"allow this change (state discarded)")

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"discard", "--force", "--queue", "default"}, "takes job ids, not filter flags"},
		{[]string{"retry", "--force", id}, "--force applies to discard only"},
	} {
		r = run(t, env, append([]string{"jobs"}, tc.args...)...)
		require.Equal(t, 2, r.code, "%v", tc.args)
		require.Contains(t, r.stderr, tc.msg)
	}
}
