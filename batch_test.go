package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/goodjobtest"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// memberArgs is a job of a batch. Fail makes its worker discard it.
type memberArgs struct {
	N    int  `json:"n"`
	Fail bool `json:"fail"`
}

func (memberArgs) Kind() string { return "BatchMember" }

// The three callback kinds, each taking the batch's callback document.
type (
	finishArgs  struct{ goodjob.BatchCallback }
	successArgs struct{ goodjob.BatchCallback }
	discardArgs struct{ goodjob.BatchCallback }
)

func (finishArgs) Kind() string  { return "BatchFinished" }
func (successArgs) Kind() string { return "BatchSucceeded" }
func (discardArgs) Kind() string { return "BatchDiscarded" }

// callbackRun is one run of a callback job, as its worker saw it.
type callbackRun struct {
	kind string
	cb   goodjob.BatchCallback
}

// registerCallbacks registers the three callback kinds on c; each run is
// sent to runs.
func registerCallbacks(t testing.TB, c *goodjob.Client, runs chan<- callbackRun) {
	t.Helper()
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[finishArgs](
		func(_ context.Context, j *goodjob.Job[finishArgs]) error {
			runs <- callbackRun{j.Args.Kind(), j.Args.BatchCallback}
			return nil
		})))
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[successArgs](
		func(_ context.Context, j *goodjob.Job[successArgs]) error {
			runs <- callbackRun{j.Args.Kind(), j.Args.BatchCallback}
			return nil
		})))
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[discardArgs](
		func(_ context.Context, j *goodjob.Job[discardArgs]) error {
			runs <- callbackRun{j.Args.Kind(), j.Args.BatchCallback}
			return nil
		})))
}

// registerMembers registers a memberArgs worker on c that discards the
// jobs marked Fail.
func registerMembers(t testing.TB, c *goodjob.Client) {
	t.Helper()
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[memberArgs](
		func(_ context.Context, j *goodjob.Job[memberArgs]) error {
			if j.Args.Fail {
				return goodjob.Discard(fmt.Errorf("job %d fails", j.Args.N))
			}
			return nil
		})))
}

// callbackCounts counts a batch's callback jobs (batch_callback_id) by kind.
func callbackCounts(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) map[string]int {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT job_class, count(*) FROM good_jobs
		WHERE batch_callback_id = $1 GROUP BY job_class`, id)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		require.NoError(t, rows.Scan(&kind, &n))
		out[kind] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// waitBatchFinished waits until the batch's callbacks have run too.
func waitBatchFinished(t testing.TB, c *goodjob.Client, id uuid.UUID) *goodjob.BatchStatus {
	t.Helper()
	var s *goodjob.BatchStatus
	require.Eventually(t, func() bool {
		var err error
		s, err = c.BatchStatus(t.Context(), id)
		require.NoError(t, err)
		return s.FinishedAt != nil
	}, 30*time.Second, 10*time.Millisecond, "batch %s never finished", id)
	return s
}

func memberJobs(from, n int, fail func(int) bool) []goodjob.EnqueueParams {
	jobs := make([]goodjob.EnqueueParams, n)
	for i := range jobs {
		jobs[i] = goodjob.EnqueueParams{Args: memberArgs{N: from + i, Fail: fail(from + i)}}
	}
	return jobs
}

func never(int) bool { return false }

// Three Clients work the jobs of three batches at once, so the last jobs of
// a batch often finish on different Clients at the same moment; each batch
// must still get exactly one finish and one success callback.
func TestBatch_CallbacksOnceAcrossClients(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	const batches, perBatch = 3, 50

	runs := make(chan callbackRun, 100)
	clients := make([]*goodjob.Client, 3)
	for i := range clients {
		clients[i] = newClient(t, db.Pool, goodjob.Config{MaxThreads: 8})
		registerMembers(t, clients[i])
		registerCallbacks(t, clients[i], runs)
	}
	ids := make([]uuid.UUID, batches)
	for i := range ids {
		b, err := clients[0].NewBatch(ctx, goodjob.BatchParams{
			Description: fmt.Sprintf("import %d", i),
			Properties:  map[string]any{"import": i, "source": "s3"},
			OnFinish:    finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
			CallbackQueue: "callbacks", CallbackPriority: -5,
		})
		require.NoError(t, err)
		rows, err := b.EnqueueMany(ctx, memberJobs(0, perBatch, never))
		require.NoError(t, err)
		require.Equal(t, b.ID, rows[0].BatchID)
		require.NoError(t, b.Seal(ctx))
		ids[i] = b.ID
	}
	for _, c := range clients {
		start(t, c)
	}

	got := map[uuid.UUID][]callbackRun{}
	for range 2 * batches {
		r := waitFor(t, runs, 30*time.Second, "a callback")
		got[r.cb.BatchID] = append(got[r.cb.BatchID], r)
	}
	for i, id := range ids {
		s := waitBatchFinished(t, clients[i%3], id)
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, id), "batch %d", i)
		require.Len(t, got[id], 2)
		for _, r := range got[id] {
			require.Equal(t, fmt.Sprintf("import %d", i), r.cb.Description)
			require.Equal(t, map[string]any{"import": float64(i), "source": "s3"},
				r.cb.Properties)
		}
		require.Equal(t, perBatch, s.Jobs)
		require.Equal(t, perBatch, s.Succeeded)
		require.Zero(t, s.Pending)
		require.Nil(t, s.DiscardedAt)
		require.NotNil(t, s.JobsFinishedAt)
	}
	var queue string
	var prio int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT DISTINCT queue_name, priority
		FROM good_jobs WHERE batch_callback_id IS NOT NULL`).Scan(&queue, &prio))
	require.Equal(t, "callbacks", queue)
	require.Equal(t, -5, prio)
}

func TestBatch_DiscardedJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	runs := make(chan callbackRun, 10)
	registerMembers(t, c)
	registerCallbacks(t, c, runs)

	b, err := c.NewBatch(ctx, goodjob.BatchParams{
		Properties: map[string]any{"k": "v"},
		OnFinish:   finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
	})
	require.NoError(t, err)
	_, err = b.EnqueueMany(ctx, memberJobs(0, 6, func(n int) bool { return n == 1 || n == 4 }))
	require.NoError(t, err)
	require.NoError(t, b.Seal(ctx))
	goodjobtest.Drain(ctx, t, c)

	require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 1},
		callbackCounts(t, db.Pool, b.ID), "two discards fire on_discard once; no success")
	close(runs)
	events := map[goodjob.BatchEvent]int{}
	for r := range runs {
		events[r.cb.Event]++
		require.Equal(t, map[string]any{"k": "v"}, r.cb.Properties)
	}
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchDiscard: 1,
		goodjob.BatchFinish: 1}, events)

	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 6, s.Jobs)
	require.Equal(t, 2, s.Discarded)
	require.Equal(t, 4, s.Succeeded)
	require.NotNil(t, s.DiscardedAt)
	require.NotNil(t, s.FinishedAt)
	require.Equal(t, 2, s.Callbacks)
}

// A job of the batch adds another; the batch waits for that one too.
func TestBatch_JobAddsJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	runs := make(chan callbackRun, 10)
	registerCallbacks(t, c, runs)

	parentDone := make(chan struct{})
	release := make(chan struct{})
	workErr := make(chan error, 4)
	var b *goodjob.Batch
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[memberArgs](
		func(ctx context.Context, j *goodjob.Job[memberArgs]) error {
			if j.BatchID != b.ID {
				workErr <- fmt.Errorf("job %d sees batch %s", j.Args.N, j.BatchID)
			}
			if j.Args.N == 2 {
				<-release
				return nil
			}
			mine, ok := goodjob.BatchFromContext(ctx)
			if !ok || mine.ID != b.ID {
				workErr <- errors.New("BatchFromContext does not give the job's batch")
				return nil
			}
			_, err := mine.Enqueue(ctx, memberArgs{N: 2})
			close(parentDone)
			return err
		})))
	var err error
	b, err = c.NewBatch(ctx, goodjob.BatchParams{OnFinish: finishArgs{}})
	require.NoError(t, err)
	_, err = b.Enqueue(ctx, memberArgs{N: 1})
	require.NoError(t, err)
	require.NoError(t, b.Seal(ctx))
	start(t, c)

	waitFor(t, parentDone, 10*time.Second, "the first job")
	require.Eventually(t, func() bool {
		s, err := b.Status(ctx)
		require.NoError(t, err)
		return s.Finished == 1
	}, 10*time.Second, 10*time.Millisecond)
	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, s.Jobs)
	require.Equal(t, 1, s.Pending, "the added job is running")
	require.Nil(t, s.JobsFinishedAt)
	require.Empty(t, callbackCounts(t, db.Pool, b.ID), "finish waits for the added job")

	close(release)
	r := waitFor(t, runs, 10*time.Second, "the finish callback")
	require.Equal(t, goodjob.BatchFinish, r.cb.Event)
	require.Equal(t, b.ID, r.cb.BatchID)
	waitBatchFinished(t, c, b.ID)
	require.Equal(t, map[string]int{"BatchFinished": 1}, callbackCounts(t, db.Pool, b.ID))
	select {
	case err := <-workErr:
		t.Fatalf("inside Work: %v", err)
	default:
	}

	_, err = b.Enqueue(ctx, memberArgs{N: 3})
	require.ErrorIs(t, err, goodjob.ErrBatchFinished)
}

// Callbacks wait for Seal, and an empty sealed batch fires at once.
func TestBatch_Seal(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	registerMembers(t, c)
	registerCallbacks(t, c, make(chan callbackRun, 10))
	params := goodjob.BatchParams{OnFinish: finishArgs{}, OnSuccess: successArgs{}}

	t.Run("NotSealed", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		_, err = b.EnqueueMany(ctx, memberJobs(0, 3, never))
		require.NoError(t, err)
		goodjobtest.Drain(ctx, t, c)

		s, err := b.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, s.Finished)
		require.Nil(t, s.EnqueuedAt)
		require.Nil(t, s.JobsFinishedAt)
		require.Empty(t, callbackCounts(t, db.Pool, b.ID), "an unsealed batch fires nothing")

		require.NoError(t, b.Seal(ctx))
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, b.ID), "sealing a done batch fires at once")
		require.NoError(t, b.Seal(ctx))
		goodjobtest.Drain(ctx, t, c)
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, b.ID), "sealing again fires nothing")
		s, err = b.Status(ctx)
		require.NoError(t, err)
		require.NotNil(t, s.FinishedAt)
	})

	t.Run("Concurrent", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		_, err = b.EnqueueMany(ctx, memberJobs(0, 2, never))
		require.NoError(t, err)
		goodjobtest.Drain(ctx, t, c)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() { errs <- b.Seal(ctx) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, b.ID), "16 racing seals fire once")
	})

	t.Run("Empty", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		require.NoError(t, b.Seal(ctx))
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, b.ID))
	})

	t.Run("InTransaction", func(t *testing.T) {
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		b, err := c.NewBatchTx(ctx, tx, params)
		require.NoError(t, err)
		_, err = b.EnqueueTx(ctx, tx, memberArgs{N: 1})
		require.NoError(t, err)
		require.NoError(t, b.SealTx(ctx, tx))
		require.NoError(t, tx.Rollback(ctx))
		_, err = c.BatchStatus(ctx, b.ID)
		require.ErrorIs(t, err, goodjob.ErrBatchNotFound, "a rollback leaves nothing")
	})

	t.Run("RepeatableReadRefused", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		require.ErrorIs(t, b.SealTx(ctx, tx), goodjob.ErrInvalidArgs)
	})
}

func TestBatch_Progress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	registerMembers(t, c)

	b, err := c.NewBatch(ctx, goodjob.BatchParams{Description: "nightly",
		Properties: map[string]any{"day": "monday"}, OnFinish: finishArgs{}})
	require.NoError(t, err)
	_, err = b.EnqueueMany(ctx, memberJobs(0, 4, func(n int) bool { return n == 0 }))
	require.NoError(t, err)
	_, err = b.Enqueue(ctx, memberArgs{N: 9}, goodjob.Wait(time.Hour))
	require.NoError(t, err)

	s, err := c.BatchStatus(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, "nightly", s.Description)
	require.Equal(t, map[string]any{"day": "monday"}, s.Properties)
	require.Equal(t, "BatchFinished", s.OnFinish)
	require.Empty(t, s.OnSuccess)
	require.Equal(t, 5, s.Jobs)
	require.Equal(t, 5, s.Pending)

	goodjobtest.Drain(ctx, t, c)
	s, err = c.BatchStatus(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.BatchStatus{
		ID: b.ID, Description: "nightly", Properties: map[string]any{"day": "monday"},
		OnFinish: "BatchFinished", CreatedAt: s.CreatedAt, DiscardedAt: s.DiscardedAt,
		Jobs: 5, Pending: 1, Finished: 4, Succeeded: 3, Discarded: 1,
	}, *s)
	require.NotNil(t, s.DiscardedAt)
}

func TestBatch_BadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	unknown := uuid.New()

	_, err := c.OpenBatch(ctx, unknown)
	require.ErrorIs(t, err, goodjob.ErrBatchNotFound)
	require.ErrorContains(t, err, unknown.String())
	_, err = c.BatchStatus(ctx, unknown)
	require.ErrorIs(t, err, goodjob.ErrBatchNotFound)

	bad := []struct {
		name   string
		params goodjob.BatchParams
		want   string
	}{
		{"NilCallback", goodjob.BatchParams{OnSuccess: (*successArgs)(nil)},
			"OnSuccess is a nil *goodjob_test.successArgs"},
		{"CallbackFields", goodjob.BatchParams{OnFinish: finishArgs{goodjob.BatchCallback{
			Description: "lost"}}}, "OnFinish: goodjob_test.finishArgs has fields set"},
		{"EmptyKind", goodjob.BatchParams{OnDiscard: emptyKindArgs{}}, "empty Kind()"},
		{"Properties", goodjob.BatchParams{Properties: map[string]any{"ch": make(chan int)}},
			"encode Properties"},
		{"Queue", goodjob.BatchParams{CallbackQueue: "a,b"}, "CallbackQueue"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.NewBatch(ctx, tc.params)
			require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
			require.ErrorContains(t, err, tc.want)
		})
	}
	var batches int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_job_batches").
		Scan(&batches))
	require.Zero(t, batches, "refused batches write nothing")

	b, err := c.NewBatch(ctx, goodjob.BatchParams{})
	require.NoError(t, err)
	opened, err := c.OpenBatch(ctx, b.ID)
	require.NoError(t, err)
	_, err = opened.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: memberArgs{N: 1}}, {Args: nil}})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	_, err = opened.EnqueueTx(ctx, nil, memberArgs{})
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, s.Jobs, "a refused job adds nothing")

	_, err = db.Pool.Exec(ctx, "DELETE FROM good_job_batches WHERE id = $1", b.ID)
	require.NoError(t, err)
	_, err = b.Enqueue(ctx, memberArgs{N: 1})
	require.ErrorIs(t, err, goodjob.ErrBatchNotFound)
	require.ErrorIs(t, b.Seal(ctx), goodjob.ErrBatchNotFound)
	var jobs int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&jobs))
	require.Zero(t, jobs)
}

// Discarding or deleting a batch's last pending job through the admin API
// finishes the batch as a worker would.
func TestBatch_AdminChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	registerMembers(t, c)
	registerCallbacks(t, c, make(chan callbackRun, 10))
	params := goodjob.BatchParams{
		OnFinish: finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
	}

	t.Run("Discard", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		_, err = b.Enqueue(ctx, memberArgs{N: 1})
		require.NoError(t, err)
		_, err = b.Enqueue(ctx, memberArgs{N: 2}, goodjob.Wait(time.Hour))
		require.NoError(t, err)
		require.NoError(t, b.Seal(ctx))
		goodjobtest.Drain(ctx, t, c)
		require.Empty(t, callbackCounts(t, db.Pool, b.ID))

		n, err := c.DiscardJobs(ctx, goodjob.JobFilter{Kind: memberArgs{}.Kind()})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 1},
			callbackCounts(t, db.Pool, b.ID))
	})

	t.Run("Delete", func(t *testing.T) {
		b, err := c.NewBatch(ctx, params)
		require.NoError(t, err)
		later, err := b.Enqueue(ctx, memberArgs{N: 2}, goodjob.Wait(time.Hour))
		require.NoError(t, err)
		require.NoError(t, b.Seal(ctx))
		require.Empty(t, callbackCounts(t, db.Pool, b.ID))

		require.NoError(t, c.DeleteJob(ctx, later.ID))
		require.Equal(t, map[string]int{"BatchFinished": 1, "BatchSucceeded": 1},
			callbackCounts(t, db.Pool, b.ID))
		goodjobtest.Drain(ctx, t, c)
		s, err := b.Status(ctx)
		require.NoError(t, err)
		require.NotNil(t, s.FinishedAt, "the callbacks ran: the batch is finished")
	})
}
