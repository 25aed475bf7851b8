package goodjob_test

import (
	"context"
	"errors"
	"github.com/google/uuid"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestStopping_SnoozeHandsJobToAnotherClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	require.Nil(t, goodjob.Stopping(ctx), "outside a job")

	first := newClient(t, db.Pool, goodjob.Config{})
	started := make(chan (<-chan struct{}), 1)
	checkpoint := make(chan error, 1) // the job's ctx.Err() when Stopping closed
	require.NoError(t, goodjob.Register(first, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, _ *goodjob.Job[noopArgs]) error {
			stopping := goodjob.Stopping(ctx)
			started <- stopping
			select {
			case <-stopping:
				checkpoint <- ctx.Err()
				return goodjob.Snooze(0)
			case <-time.After(10 * time.Second):
				return errors.New("Stopping never closed")
			}
		})))
	row, err := first.Enqueue(ctx, noopArgs{N: 3})
	require.NoError(t, err)
	start(t, first)
	stopping := waitFor(t, started, 10*time.Second, "the job to start")
	require.NotNil(t, stopping)
	require.False(t, isClosed(stopping), "Stopping is open while the Client runs")

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, first.Stop(stopCtx), "the job returned before the deadline")
	require.NoError(t, waitFor(t, checkpoint, time.Second, "the job's checkpoint"),
		"Stopping closes before the job's context ends")
	s := loadJob(t, db.Pool, row.ID)
	require.Nil(t, s.FinishedAt)
	require.Nil(t, s.LockedByID, "released by its completion")
	require.Nil(t, s.Error, "a snooze is not a failure")
	require.False(t, s.ScheduledAt.After(time.Now()), "due at once")

	second := newClient(t, db.Pool, goodjob.Config{})
	ran := make(chan *goodjob.Job[noopArgs], 1)
	require.NoError(t, goodjob.Register(second, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			ran <- j
			return nil
		})))
	start(t, second)
	j := waitFor(t, ran, 10*time.Second, "the other Client to run the job")
	require.Equal(t, row.ID, j.ID)
	require.Equal(t, 3, j.Args.N)
	require.Equal(t, 1, j.Attempt, "the snoozed run used no attempt")
	s = waitFinished(t, db.Pool, row.ID)
	require.Nil(t, s.Error)
	require.EqualValues(t, 2, *s.ExecutionsCount)
}

// TestStopping_SnoozeWakesRunningClient: a job snoozed at Stop reaches a
// Client that is already running through its wake-up, not its poll.
func TestStopping_SnoozeWakesRunningClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	started := make(chan struct{}, 1)
	first := newClient(t, db.Pool, goodjob.Config{Queues: "handover"})
	require.NoError(t, goodjob.Register(first, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, _ *goodjob.Job[noopArgs]) error {
			started <- struct{}{}
			<-goodjob.Stopping(ctx)
			return goodjob.Snooze(0)
		})))
	ran := make(chan uuid.UUID, 1)
	second := newClient(t, db.Pool, goodjob.Config{Queues: "handover",
		PollInterval: time.Hour})
	require.NoError(t, goodjob.Register(second, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			ran <- j.ID
			return nil
		})))
	start(t, first)
	row, err := first.Enqueue(ctx, noopArgs{N: 1}, goodjob.Queue("handover"))
	require.NoError(t, err)
	waitFor(t, started, 10*time.Second, "the job to start on the first Client")
	start(t, second)

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, first.Stop(stopCtx))
	require.Equal(t, row.ID, waitFor(t, ran, 5*time.Second,
		"the running Client to take the snoozed job without polling"))
}

func TestStopping_OnlyTheStoppingClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)

	// Each Client runs one kind, so each job lands on a known Client.
	stopped := newClient(t, db.Pool, goodjob.Config{})
	waitingStarted := make(chan struct{}, 1)
	require.NoError(t, goodjob.Register(stopped, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, _ *goodjob.Job[noopArgs]) error {
			waitingStarted <- struct{}{}
			<-goodjob.Stopping(ctx)
			return nil
		})))
	running := newClient(t, db.Pool, goodjob.Config{})
	channels := make(chan (<-chan struct{}), 1)
	release := make(chan struct{})
	require.NoError(t, goodjob.Register(running, goodjob.WorkFunc[otherArgs](
		func(ctx context.Context, _ *goodjob.Job[otherArgs]) error {
			channels <- goodjob.Stopping(ctx)
			<-release
			return nil
		})))
	waiting, err := stopped.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	busy, err := stopped.Enqueue(ctx, otherArgs{Name: "busy"})
	require.NoError(t, err)
	start(t, stopped)
	start(t, running)
	ch := waitFor(t, channels, 10*time.Second, "the running Client's job")
	// Stop before the job starts would leave it queued, with no Client
	// that runs its kind.
	waitFor(t, waitingStarted, 10*time.Second, "the stopped Client's job")

	require.NoError(t, stopped.Stop(ctx))
	require.Nil(t, waitFinished(t, db.Pool, waiting.ID).Error)
	require.False(t, isClosed(ch), "another Client's Stop leaves this job's Stopping open")

	stopDone := make(chan error, 1)
	go func() { stopDone <- running.Stop(context.WithoutCancel(ctx)) }()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Stopping did not close when its own Client began to stop")
	}
	close(release)
	require.NoError(t, waitFor(t, stopDone, 10*time.Second, "Stop"))
	require.Nil(t, waitFinished(t, db.Pool, busy.ID).Error)
}
