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

func TestPause(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	// The pausing Client is not the worker: the worker sees the pause
	// through the settings row within one PollInterval.
	admin := newClient(t, db.Pool, goodjob.Config{})
	require.NoError(t, admin.Pause(ctx, goodjob.PauseTarget{Queue: "slow"}))
	require.NoError(t, admin.Pause(ctx, goodjob.PauseTarget{Kind: "OtherJob"}))
	require.NoError(t, admin.Pause(ctx, goodjob.PauseTarget{Label: "hold"}))
	require.NoError(t, admin.Pause(ctx, goodjob.PauseTarget{Queue: "slow"}), "twice is fine")

	var raw []byte
	require.NoError(t, db.Pool.QueryRow(ctx,
		"SELECT value FROM good_job_settings WHERE key = 'pauses'").Scan(&raw))
	var stored map[string][]string
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, map[string][]string{
		"queues": {"slow"}, "job_classes": {"OtherJob"}, "labels": {"hold"},
	}, stored, "GoodJob's format")

	paused, err := admin.Pauses(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"slow"}, paused.Queues)

	worker := newClient(t, db.Pool, goodjob.Config{PollInterval: 200 * time.Millisecond})
	started := make(chan noopArgs, 10)
	others := make(chan otherArgs, 10)
	require.NoError(t, goodjob.Register(worker, recorder(started)))
	require.NoError(t, goodjob.Register(worker, recorder(others)))
	enqueue := func(args goodjob.Args, opts ...goodjob.EnqueueOption) {
		_, err := admin.Enqueue(ctx, args, opts...)
		require.NoError(t, err)
	}
	enqueue(noopArgs{N: 1}, goodjob.Queue("slow"))
	enqueue(otherArgs{Name: "paused kind"})
	enqueue(noopArgs{N: 2}, goodjob.Labels("hold", "x"))
	enqueue(noopArgs{N: 3}, goodjob.Priority(10))
	start(t, worker)

	// The unpaused job runs last by priority, so the paused ones would have
	// run before it had they been claimable.
	require.Equal(t, 3, waitFor(t, started, 10*time.Second, "unpaused job").N)
	// Had they been claimable, the paused jobs would have been claimed in
	// the same statement as job 3, before it.
	var touched int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM good_jobs
		WHERE (performed_at IS NOT NULL OR locked_by_id IS NOT NULL
			OR finished_at IS NOT NULL)
			AND serialized_params->'arguments'->0->>'n' IS DISTINCT FROM '3'`).Scan(&touched))
	require.Zero(t, touched, "a paused job was claimed")
	select {
	case j := <-started:
		t.Fatalf("paused job %d ran", j.N)
	case j := <-others:
		t.Fatalf("job of a paused kind ran: %+v", j)
	default:
	}

	require.NoError(t, admin.Resume(ctx, goodjob.PauseTarget{Queue: "slow"}))
	require.Equal(t, 1, waitFor(t, started, 5*time.Second, "resumed queue").N)
	require.NoError(t, admin.Resume(ctx, goodjob.PauseTarget{Label: "hold"}))
	require.Equal(t, 2, waitFor(t, started, 5*time.Second, "resumed label").N)
	require.NoError(t, admin.Resume(ctx, goodjob.PauseTarget{Kind: "OtherJob"}))
	require.Equal(t, "paused kind", waitFor(t, others, 5*time.Second, "resumed kind").Name)

	paused, err = admin.Pauses(ctx)
	require.NoError(t, err)
	require.Empty(t, paused.Queues)
	require.Empty(t, paused.Kinds)
	require.Empty(t, paused.Labels)
}

func TestPause_Invalid(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	for _, target := range []goodjob.PauseTarget{{}, {Queue: "a", Kind: "B"}} {
		require.ErrorIs(t, c.Pause(context.Background(), target), goodjob.ErrInvalidPause)
	}
}
