package goodjob_test

import (
	"context"
	"errors"
	"sync/atomic"
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

// flakyArgs is a batch job that is discarded while its bundle's failing
// flag is set and succeeds once it is cleared.
type flakyArgs struct {
	N int `json:"n"`
}

func (flakyArgs) Kind() string { return "BatchFlaky" }

// retryBundle is one batch retry test's database, Client and flags.
type retryBundle struct {
	pool    *pgxpool.Pool
	client  *goodjob.Client
	runs    chan callbackRun
	failing atomic.Bool
	flakies atomic.Int32 // flakyArgs attempts so far
}

func setupRetry(t *testing.T) *retryBundle {
	t.Helper()
	db := testdb.New(t)
	rb := &retryBundle{pool: db.Pool, runs: make(chan callbackRun, 20)}
	rb.failing.Store(true)
	rb.client = newClient(t, db.Pool, goodjob.Config{})
	registerMembers(t, rb.client)
	registerCallbacks(t, rb.client, rb.runs)
	require.NoError(t, goodjob.Register(rb.client, goodjob.WorkFunc[flakyArgs](
		func(_ context.Context, j *goodjob.Job[flakyArgs]) error {
			rb.flakies.Add(1)
			if rb.failing.Load() {
				return goodjob.Discard(errBatchFlaky)
			}
			return nil
		})))
	return rb
}

// errBatchFlaky is what a failing flakyArgs job is discarded with.
var errBatchFlaky = errors.New("flaky batch job fails")

// newBatch writes a sealed batch with all three callbacks, one flakyArgs
// job and the memberArgs jobs extra, and returns it with the flaky job.
func (rb *retryBundle) newBatch(t *testing.T, extra ...goodjob.EnqueueParams) (*goodjob.Batch,
	*goodjob.JobRow) {
	t.Helper()
	ctx := t.Context()
	b, err := rb.client.NewBatch(ctx, goodjob.BatchParams{
		OnFinish: finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
	})
	require.NoError(t, err)
	flaky, err := b.Enqueue(ctx, flakyArgs{N: 1})
	require.NoError(t, err)
	if len(extra) > 0 {
		_, err = b.EnqueueMany(ctx, extra)
		require.NoError(t, err)
	}
	require.NoError(t, b.Seal(ctx))
	return b, flaky
}

// events drains the callback runs received so far and counts them.
func (rb *retryBundle) events() map[goodjob.BatchEvent]int {
	out := map[goodjob.BatchEvent]int{}
	for {
		select {
		case r := <-rb.runs:
			out[r.cb.Event]++
		default:
			return out
		}
	}
}

// batchUpdatedAt reads the batch row's updated_at, which every write of
// the row sets.
func batchUpdatedAt(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) time.Time {
	t.Helper()
	var at time.Time
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT updated_at FROM good_job_batches WHERE id = $1", id).Scan(&at))
	return at
}

// A batch whose only failure was discarded finishes and calls back; after a
// retry that succeeds it finishes again and calls back again, once, however
// the retry is asked for.
func TestClient_RetryBatch(t *testing.T) {
	t.Parallel()
	retries := []struct {
		name  string
		retry func(context.Context, *retryBundle, uuid.UUID, uuid.UUID) (int, error)
	}{
		{"RetryBatch", func(ctx context.Context, rb *retryBundle, batch, _ uuid.UUID) (int, error) {
			return rb.client.RetryBatch(ctx, batch)
		}},
		{"RetryBatchTx", func(ctx context.Context, rb *retryBundle, batch, _ uuid.UUID) (int, error) {
			var n int
			err := pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
				var err error
				n, err = rb.client.RetryBatchTx(ctx, tx, batch)
				return err
			})
			return n, err
		}},
		{"RetryJob", func(ctx context.Context, rb *retryBundle, _, job uuid.UUID) (int, error) {
			return 1, rb.client.RetryJob(ctx, job)
		}},
		{"RetryJobs", func(ctx context.Context, rb *retryBundle, _, _ uuid.UUID) (int, error) {
			return rb.client.RetryJobs(ctx, goodjob.JobFilter{Kind: flakyArgs{}.Kind()})
		}},
	}
	for _, tc := range retries {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			rb := setupRetry(t)
			b, flaky := rb.newBatch(t, memberJobs(2, 2, never)...)
			goodjobtest.Drain(ctx, t, rb.client)

			require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchDiscard: 1,
				goodjob.BatchFinish: 1}, rb.events())
			require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 1},
				callbackCounts(t, rb.pool, b.ID))
			s, err := b.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, s.Discarded)
			require.NotNil(t, s.DiscardedAt)
			require.NotNil(t, s.FinishedAt)

			rb.failing.Store(false)
			n, err := tc.retry(ctx, rb, b.ID, flaky.ID)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			s, err = b.Status(ctx)
			require.NoError(t, err)
			require.Nil(t, s.DiscardedAt, "the retry reopens the batch")
			require.Nil(t, s.JobsFinishedAt)
			require.Nil(t, s.FinishedAt)
			require.Equal(t, 1, s.Pending)
			require.Zero(t, s.Discarded)

			goodjobtest.Drain(ctx, t, rb.client)
			require.Equal(t, int32(2), rb.flakies.Load(), "the flaky job ran again")
			require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchFinish: 1,
				goodjob.BatchSuccess: 1}, rb.events(), "finish and success, once each")
			require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 2,
				"BatchSucceeded": 1}, callbackCounts(t, rb.pool, b.ID))
			s, err = b.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, goodjob.BatchStatus{
				ID: b.ID, OnFinish: "BatchFinished", OnSuccess: "BatchSucceeded",
				OnDiscard: "BatchDiscarded", CreatedAt: s.CreatedAt, EnqueuedAt: s.EnqueuedAt,
				JobsFinishedAt: s.JobsFinishedAt, FinishedAt: s.FinishedAt,
				Jobs: 3, Finished: 3, Succeeded: 3, Callbacks: 4,
			}, *s)
			require.NotNil(t, s.JobsFinishedAt)
			require.NotNil(t, s.FinishedAt)
		})
	}
}

// A retried job that is discarded again calls back as the first round did.
func TestClient_RetryBatch_FailsAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rb := setupRetry(t)
	b, _ := rb.newBatch(t)
	goodjobtest.Drain(ctx, t, rb.client)
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchDiscard: 1,
		goodjob.BatchFinish: 1}, rb.events())

	n, err := rb.client.RetryBatch(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	goodjobtest.Drain(ctx, t, rb.client)
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchDiscard: 1,
		goodjob.BatchFinish: 1}, rb.events(), "discarded again: no success")
	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, s.Discarded)
	require.NotNil(t, s.DiscardedAt)
	require.NotNil(t, s.FinishedAt)
	require.Equal(t, 4, s.Callbacks)
}

// RetryBatch leaves a job a worker holds alone; the batch finishes once
// that job and the retried one have both finished.
func TestClient_RetryBatch_RunningJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{MaxThreads: 4})
	runs := make(chan callbackRun, 10)
	registerCallbacks(t, c, runs)
	var failing atomic.Bool
	failing.Store(true)
	flakyRan := make(chan error, 4)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[flakyArgs](
		func(_ context.Context, j *goodjob.Job[flakyArgs]) error {
			var err error
			if failing.Load() {
				err = goodjob.Discard(errBatchFlaky)
			}
			flakyRan <- err
			return err
		})))
	running, release := make(chan struct{}), make(chan struct{})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[memberArgs](
		func(context.Context, *goodjob.Job[memberArgs]) error {
			close(running)
			<-release
			return nil
		})))

	b, err := c.NewBatch(ctx, goodjob.BatchParams{
		OnFinish: finishArgs{}, OnSuccess: successArgs{}, OnDiscard: discardArgs{},
	})
	require.NoError(t, err)
	_, err = b.Enqueue(ctx, flakyArgs{N: 1})
	require.NoError(t, err)
	held, err := b.Enqueue(ctx, memberArgs{N: 2})
	require.NoError(t, err)
	require.NoError(t, b.Seal(ctx))
	start(t, c)

	require.Error(t, waitFor(t, flakyRan, 10*time.Second, "the flaky job's first run"))
	require.Equal(t, goodjob.BatchDiscard, waitFor(t, runs, 10*time.Second,
		"the discard callback").cb.Event)
	waitFor(t, running, 10*time.Second, "the held job")
	before := loadJob(t, db.Pool, held.ID)
	require.NotNil(t, before.LockedByID)

	failing.Store(false)
	n, err := c.RetryBatch(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the discarded job is retried")
	require.Equal(t, before, loadJob(t, db.Pool, held.ID), "the held job is not touched")
	require.NoError(t, waitFor(t, flakyRan, 10*time.Second, "the flaky job's retry"))

	s, err := b.Status(ctx)
	require.NoError(t, err)
	require.Nil(t, s.JobsFinishedAt, "the held job is still running")
	require.Equal(t, map[string]int{"BatchDiscarded": 1}, callbackCounts(t, db.Pool, b.ID))

	close(release)
	got := map[goodjob.BatchEvent]int{}
	for range 2 {
		got[waitFor(t, runs, 10*time.Second, "a callback").cb.Event]++
	}
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchFinish: 1,
		goodjob.BatchSuccess: 1}, got)
	s = waitBatchFinished(t, c, b.ID)
	require.Nil(t, s.DiscardedAt)
	require.Equal(t, 2, s.Succeeded)
	require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 1,
		"BatchSucceeded": 1}, callbackCounts(t, db.Pool, b.ID))
}

// A settle that holds the batch's lock when RetryBatch reaches it is
// waited for, and the reopen decides from what that settle committed: a
// job discarded meanwhile keeps the batch's discarded_at, so OnDiscard
// does not run twice.
func TestClient_RetryBatch_WaitsForSettle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rb := setupRetry(t)
	b, _ := rb.newBatch(t)
	late, err := b.Enqueue(ctx, memberArgs{N: 2}, goodjob.Wait(time.Hour))
	require.NoError(t, err)
	goodjobtest.Drain(ctx, t, rb.client)
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchDiscard: 1}, rb.events())
	discardedAt := *mustStatus(t, b).DiscardedAt

	// Play a worker that discards the late job and settles: it holds the
	// batch's row lock until it commits.
	settle, err := rb.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = settle.Rollback(ctx) }()
	var settlePID uint32
	require.NoError(t, settle.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&settlePID))
	_, err = settle.Exec(ctx, "SELECT 1 FROM good_job_batches WHERE id = $1 FOR UPDATE", b.ID)
	require.NoError(t, err)
	_, err = settle.Exec(ctx, `UPDATE good_jobs SET finished_at = now(), error = 'late: boom'
		WHERE id = $1`, late.ID)
	require.NoError(t, err)

	rb.failing.Store(false)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := rb.client.RetryBatch(ctx, b.ID)
		done <- result{n, err}
	}()
	require.Eventually(t, func() bool {
		var blocked bool
		require.NoError(t, rb.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid)))`, settlePID).Scan(&blocked))
		return blocked
	}, 10*time.Second, 5*time.Millisecond, "RetryBatch never waited for the settle")
	require.NoError(t, settle.Commit(ctx))
	r := waitFor(t, done, 10*time.Second, "RetryBatch")
	require.NoError(t, r.err)
	require.Equal(t, 1, r.n, "the late job was not discarded when the retry began")

	s := mustStatus(t, b)
	require.NotNil(t, s.DiscardedAt, "the late job is discarded: the batch stays discarded")
	require.True(t, discardedAt.Equal(*s.DiscardedAt))
	goodjobtest.Drain(ctx, t, rb.client)
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchFinish: 1}, rb.events(),
		"finish without success, and no second discard")
	require.Equal(t, map[string]int{"BatchDiscarded": 1, "BatchFinished": 1},
		callbackCounts(t, rb.pool, b.ID))
}

func TestClient_RetryBatch_NothingToRetry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rb := setupRetry(t)
	rb.failing.Store(false)
	b, _ := rb.newBatch(t)
	goodjobtest.Drain(ctx, t, rb.client)
	require.Equal(t, map[goodjob.BatchEvent]int{goodjob.BatchFinish: 1,
		goodjob.BatchSuccess: 1}, rb.events())
	before, updated := mustStatus(t, b), batchUpdatedAt(t, rb.pool, b.ID)

	n, err := rb.client.RetryBatch(ctx, b.ID)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, before, mustStatus(t, b))
	require.Equal(t, updated, batchUpdatedAt(t, rb.pool, b.ID), "the batch row is not written")
	require.Empty(t, goodjobtest.Drain(ctx, t, rb.client))
}

func TestClient_RetryBatch_BadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rb := setupRetry(t)
	unknown := uuid.New()

	n, err := rb.client.RetryBatch(ctx, unknown)
	require.ErrorIs(t, err, goodjob.ErrBatchNotFound)
	require.ErrorContains(t, err, unknown.String())
	require.Zero(t, n)
	_, err = rb.client.RetryBatchTx(ctx, nil, unknown)
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)

	// Settling refuses a stricter transaction, and so does reopening.
	b, _ := rb.newBatch(t)
	goodjobtest.Drain(ctx, t, rb.client)
	tx, err := rb.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = rb.client.RetryBatchTx(ctx, tx, b.ID)
	require.ErrorIs(t, err, goodjob.ErrInvalidArgs)
}

func mustStatus(t testing.TB, b *goodjob.Batch) *goodjob.BatchStatus {
	t.Helper()
	s, err := b.Status(t.Context())
	require.NoError(t, err)
	return s
}
