package goodjob

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// The Tx twins of the admin changes run inside the caller's transaction:
// the change, and the wake-up it sends, take effect when tx commits, and a
// rollback undoes them. The rows they change stay locked until then, so
// keep such transactions short: workers skip locked rows.

func requireTx(tx pgx.Tx, name string) error {
	if tx == nil {
		return fmt.Errorf("%w: %s with a nil transaction", ErrInvalidArgs, name)
	}
	return nil
}

// RetryJobTx is RetryJob inside tx. Retrying a job of a batch locks the
// batch's row until tx ends and needs tx at READ COMMITTED, Postgres's
// default; at a stricter level it returns ErrInvalidArgs.
func (c *Client) RetryJobTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if err := requireTx(tx, "RetryJobTx"); err != nil {
		return err
	}
	return c.changeOne(ctx, tx, jobsql.ChangeParams{Action: jobsql.ActionRetry}, id)
}

// DiscardJobTx is DiscardJob inside tx.
func (c *Client) DiscardJobTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if err := requireTx(tx, "DiscardJobTx"); err != nil {
		return err
	}
	return c.changeOne(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionDiscard, Error: DiscardedByOperator,
	}, id)
}

// ForceDiscardJobTx is ForceDiscardJob inside tx. Until tx ends, the
// worker's completion waits on the job's row lock; if tx rolls back, the
// worker still holds the job and its outcome is written as usual.
// Discarding a job of a batch needs tx at READ COMMITTED, as RetryJobTx
// says.
func (c *Client) ForceDiscardJobTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if err := requireTx(tx, "ForceDiscardJobTx"); err != nil {
		return err
	}
	return c.changeOne(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionForceDiscard, Error: ForceDiscardedByOperator,
	}, id)
}

// RescheduleJobTx is RescheduleJob inside tx.
func (c *Client) RescheduleJobTx(ctx context.Context, tx pgx.Tx, id uuid.UUID,
	at time.Time) error {
	if err := requireTx(tx, "RescheduleJobTx"); err != nil {
		return err
	}
	return c.changeOne(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionReschedule, At: at.UTC(),
	}, id)
}

// DeleteJobTx is DeleteJob inside tx.
func (c *Client) DeleteJobTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if err := requireTx(tx, "DeleteJobTx"); err != nil {
		return err
	}
	return c.changeOne(ctx, tx, jobsql.ChangeParams{Action: jobsql.ActionDelete}, id)
}

// RetryJobsTx is RetryJobs inside tx, with RetryJobTx's conditions for
// jobs of batches.
func (c *Client) RetryJobsTx(ctx context.Context, tx pgx.Tx, f JobFilter) (int, error) {
	if err := requireTx(tx, "RetryJobsTx"); err != nil {
		return 0, err
	}
	return c.changeMany(ctx, tx, jobsql.ChangeParams{Action: jobsql.ActionRetry}, f)
}

// DiscardJobsTx is DiscardJobs inside tx.
func (c *Client) DiscardJobsTx(ctx context.Context, tx pgx.Tx, f JobFilter) (int, error) {
	if err := requireTx(tx, "DiscardJobsTx"); err != nil {
		return 0, err
	}
	return c.changeMany(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionDiscard, Error: DiscardedByOperator,
	}, f)
}

// RescheduleJobsTx is RescheduleJobs inside tx.
func (c *Client) RescheduleJobsTx(ctx context.Context, tx pgx.Tx, f JobFilter,
	at time.Time) (int, error) {
	if err := requireTx(tx, "RescheduleJobsTx"); err != nil {
		return 0, err
	}
	return c.changeMany(ctx, tx, jobsql.ChangeParams{
		Action: jobsql.ActionReschedule, At: at.UTC(),
	}, f)
}

// DeleteJobsTx is DeleteJobs inside tx.
func (c *Client) DeleteJobsTx(ctx context.Context, tx pgx.Tx, f JobFilter) (int, error) {
	if err := requireTx(tx, "DeleteJobsTx"); err != nil {
		return 0, err
	}
	return c.changeMany(ctx, tx, jobsql.ChangeParams{Action: jobsql.ActionDelete}, f)
}
