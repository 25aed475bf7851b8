package goodjob

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// RetryBatch retries every discarded job of the batch id, as RetryJob
// does, and returns how many it retried. In the same transaction it
// reopens the batch, as GoodJob's batch retry does: it clears the
// batch's discarded_at, jobs_finished_at and finished_at. Once the
// retried jobs finish, the batch settles again and its callbacks are
// enqueued again, even those that ran before: OnFinish always, OnSuccess
// if no job is discarded this time, and OnDiscard if one is.
//
// Jobs a worker holds are never changed, and a discarded job whose unique
// key another unfinished job holds is left as it is (see
// ErrUniqueConflict); while such a job is left, the batch keeps its
// discarded_at. A batch with no discarded job returns 0 and is not
// changed. An unknown id returns an error wrapping ErrBatchNotFound.
func (c *Client) RetryBatch(ctx context.Context, id uuid.UUID) (int, error) {
	return c.retryBatch(ctx, nil, id)
}

// RetryBatchTx is RetryBatch inside tx, which must run at READ COMMITTED,
// Postgres's default, as settling the batch does: at a stricter level it
// returns ErrInvalidArgs. The batch's row stays locked until tx ends, and
// its jobs' completions wait for it.
func (c *Client) RetryBatchTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) (int, error) {
	if err := requireTx(tx, "RetryBatchTx"); err != nil {
		return 0, err
	}
	return c.retryBatch(ctx, tx, id)
}

// retryBatch checks that the batch exists, then retries its discarded jobs
// through the admin change path, which reopens the batch in the same
// transaction.
func (c *Client) retryBatch(ctx context.Context, tx pgx.Tx, id uuid.UUID) (int, error) {
	// The check takes no lock: locking the batch before its jobs would
	// invert the order every settle and every admin change keeps.
	ok, err := jobsql.BatchExists(ctx, c.dbtx(tx), id)
	if err != nil {
		return 0, fmt.Errorf("goodjob: retry batch: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrBatchNotFound, id)
	}
	return c.apply(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionRetry,
		Filter: jobsql.Filter{Now: c.now().UTC(), BatchID: id},
	})
}

// reopenBatches clears, under the batches' row locks, the settled marks
// that jobs just retried in tx made untrue, so that the batches settle
// again when those jobs finish (see jobsql.ReopenBatches).
//
// The lock is taken after the jobs changed, as a settle takes it after a
// completion. A settle that got the lock first decided from the jobs as
// they were before the retry, and the reopen then undoes its marks; a
// settle that waits for the reopen sees the retried jobs unfinished. In
// both orders each event is recorded once per settle that sees it, so no
// callback is lost or doubled.
func (c *Client) reopenBatches(ctx context.Context, tx jobsql.DBTX, ids []uuid.UUID) error {
	ids, err := lockBatches(ctx, tx, ids, "retrying a job of")
	if err != nil {
		return err
	}
	if err := jobsql.ReopenBatches(ctx, tx, ids, c.now().UTC()); err != nil {
		return fmt.Errorf("goodjob: %w", err)
	}
	return nil
}
