package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Errors of the admin API, wrapped in a *JobActionError for changes by id.
var (
	// ErrJobNotFound means no job has the given id.
	ErrJobNotFound = errors.New("goodjob: job not found")
	// ErrJobRunning means a worker holds the job (locked_by_id is set), so
	// it cannot be changed until the attempt ends.
	ErrJobRunning = errors.New("goodjob: job is running")
	// ErrJobState means the job's state does not allow the change, such as
	// retrying a job that succeeded or discarding one that finished.
	ErrJobState = errors.New("goodjob: job state does not allow this change")
	// ErrInvalidFilter wraps every rejection of a JobFilter or a
	// BatchFilter, of a cursor, or of a bulk change with an empty filter.
	ErrInvalidFilter = errors.New("goodjob: invalid filter")
)

// JobActionError reports a change by id that did not happen. Err is one of
// ErrJobNotFound, ErrJobRunning or ErrJobState, so errors.Is works on it.
type JobActionError struct {
	ID     uuid.UUID
	Action string   // "retry", "discard", "force-discard", "reschedule", "delete" or "get"
	State  JobState // the job's state when the change was refused; empty if not found
	Err    error
}

func (e *JobActionError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("%s job %s: %v", e.Action, e.ID, e.Err)
	}
	return fmt.Sprintf("%s job %s: %v (state %s)", e.Action, e.ID, e.Err, e.State)
}

// Unwrap returns the sentinel error.
func (e *JobActionError) Unwrap() error { return e.Err }

// DiscardedByOperator is the error text DiscardJob and DiscardJobs write
// on the jobs they discard, in GoodJob's "Class: message" form.
const DiscardedByOperator = "goodjob.DiscardJobError: discarded by an operator"

// ForceDiscardedByOperator is the error text ForceDiscardJob writes on the
// job it discards, and on the execution row of the attempt it cut off.
const ForceDiscardedByOperator = "goodjob.DiscardJobError: force-discarded by an operator"

var actionNames = map[jobsql.Action]string{
	jobsql.ActionRetry:      "retry",
	jobsql.ActionDiscard:    "discard",
	jobsql.ActionReschedule: "reschedule",
	jobsql.ActionDelete:     "delete",

	jobsql.ActionForceDiscard: "force-discard",
}

// RetryJob runs a discarded job again, now: it clears finished_at,
// performed_at and the error and sets scheduled_at to now, as GoodJob's
// retry_job does. The job keeps its executions, so it gets one more attempt
// under its retry policy before it is discarded again. Only discarded jobs
// can be retried (otherwise ErrJobState); to run a waiting job sooner, use
// RescheduleJob. A job with a unique key that another unfinished job of its
// kind holds is not retried: the error wraps ErrUniqueConflict.
//
// Retrying a job of a batch reopens the batch, as [Client.RetryBatch]
// describes: when the job finishes, the batch's callbacks are enqueued
// again, even if they ran before.
func (c *Client) RetryJob(ctx context.Context, id uuid.UUID) error {
	return c.changeOne(ctx, nil, jobsql.ChangeParams{Action: jobsql.ActionRetry}, id)
}

// DiscardJob finishes a queued, scheduled or retried job without running
// it: it sets finished_at, the error DiscardedByOperator and error_event
// discarded. A finished job returns ErrJobState.
func (c *Client) DiscardJob(ctx context.Context, id uuid.UUID) error {
	return c.changeOne(ctx, nil, jobsql.ChangeParams{
		Action: jobsql.ActionDiscard, Error: DiscardedByOperator,
	}, id)
}

// ForceDiscardJob discards an unfinished job even while a worker runs it,
// as GoodJob's force discard does for a job that is stuck or whose process
// hangs while it keeps its heartbeat. It sets finished_at, the error
// ForceDiscardedByOperator and error_event discarded, and clears
// locked_by_id and locked_at. A finished job returns ErrJobState.
//
// The worker is not stopped: its Work keeps running until it returns, and
// the job's context is not canceled. Its outcome is then dropped, because
// completions are fenced by locked_by_id: the row stays discarded and no
// retry is scheduled. The attempt it was running is recorded as an
// execution with the discard's error, since its own execution row would
// have been written by that completion. A job no worker held gets no
// execution row, as with DiscardJob.
//
// Discarding a job of a batch settles the batch as DiscardJob does; the
// worker's later completion does not settle it again, so the batch's
// callbacks are enqueued once.
func (c *Client) ForceDiscardJob(ctx context.Context, id uuid.UUID) error {
	return c.changeOne(ctx, nil, jobsql.ChangeParams{
		Action: jobsql.ActionForceDiscard, Error: ForceDiscardedByOperator,
	}, id)
}

// RescheduleJob moves an unfinished job's scheduled_at to at; a time in
// the past or now runs it as soon as a worker is free. A finished job
// returns ErrJobState.
func (c *Client) RescheduleJob(ctx context.Context, id uuid.UUID, at time.Time) error {
	return c.changeOne(ctx, nil, jobsql.ChangeParams{
		Action: jobsql.ActionReschedule, At: at.UTC(),
	}, id)
}

// DeleteJob deletes a job in any state but running, with its executions.
func (c *Client) DeleteJob(ctx context.Context, id uuid.UUID) error {
	return c.changeOne(ctx, nil, jobsql.ChangeParams{Action: jobsql.ActionDelete}, id)
}

// RetryJobs retries every discarded job that matches f, as RetryJob does,
// and returns how many it retried. Jobs in other states are left alone, and
// so are jobs whose unique key is held (see ErrUniqueConflict). The
// batches of the retried jobs are reopened, as RetryJob says.
func (c *Client) RetryJobs(ctx context.Context, f JobFilter) (int, error) {
	return c.changeMany(ctx, nil, jobsql.ChangeParams{Action: jobsql.ActionRetry}, f)
}

// DiscardJobs discards every unfinished job that matches f and no worker
// holds, as DiscardJob does, and returns how many it discarded.
func (c *Client) DiscardJobs(ctx context.Context, f JobFilter) (int, error) {
	return c.changeMany(ctx, nil, jobsql.ChangeParams{
		Action: jobsql.ActionDiscard, Error: DiscardedByOperator,
	}, f)
}

// RescheduleJobs moves every unfinished job that matches f and no worker
// holds to at, and returns how many it moved.
func (c *Client) RescheduleJobs(ctx context.Context, f JobFilter, at time.Time) (int, error) {
	return c.changeMany(ctx, nil, jobsql.ChangeParams{
		Action: jobsql.ActionReschedule, At: at.UTC(),
	}, f)
}

// DeleteJobs deletes every job that matches f and no worker holds, with
// its executions, and returns how many it deleted. With f.Limit it deletes
// at most that many, oldest first, so a caller can delete in batches.
func (c *Client) DeleteJobs(ctx context.Context, f JobFilter) (int, error) {
	return c.changeMany(ctx, nil, jobsql.ChangeParams{Action: jobsql.ActionDelete}, f)
}

// changeOne applies a change to one job and explains a refusal.
func (c *Client) changeOne(ctx context.Context, tx pgx.Tx, p jobsql.ChangeParams,
	id uuid.UUID) error {
	now := c.now().UTC()
	p.Filter = jobsql.Filter{Now: now, IDs: []uuid.UUID{id}}
	n, err := c.apply(ctx, tx, p)
	if errors.Is(err, ErrUniqueConflict) {
		return &JobActionError{ID: id, Action: actionNames[p.Action],
			State: JobStateDiscarded, Err: ErrUniqueConflict}
	}
	if err != nil || n == 1 {
		return err
	}
	// Nothing changed: read the row to say why. A worker may have claimed
	// it meanwhile, but a claim never makes a refused change allowed.
	j, err := jobsql.GetJob(ctx, c.dbtx(tx), now, id)
	aerr := &JobActionError{ID: id, Action: actionNames[p.Action]}
	switch {
	case errors.Is(err, jobsql.ErrNoJob):
		aerr.Err = ErrJobNotFound
	case err != nil:
		return fmt.Errorf("goodjob: %s job %s: %w", aerr.Action, id, err)
	case j.LockedByID != nil && p.Action != jobsql.ActionForceDiscard:
		aerr.State, aerr.Err = JobState(j.State), ErrJobRunning
	case p.Action == jobsql.ActionRetry && j.State == jobsql.StateDiscarded &&
		j.UniqueKey != nil:
		// A discarded job is refused a retry only for its unique key.
		aerr.State, aerr.Err = JobState(j.State), ErrUniqueConflict
	default:
		aerr.State, aerr.Err = JobState(j.State), ErrJobState
	}
	return aerr
}

// changeMany applies a bulk change. An empty filter is refused, so that a
// forgotten flag cannot delete or discard the whole table.
func (c *Client) changeMany(ctx context.Context, tx pgx.Tx, p jobsql.ChangeParams,
	f JobFilter) (int, error) {
	if f.isEmpty() {
		return 0, fmt.Errorf("%w: a bulk %s needs at least one filter field",
			ErrInvalidFilter, actionNames[p.Action])
	}
	sf, err := f.sql(c.now().UTC())
	if err != nil {
		return 0, err
	}
	p.Filter, p.Limit, p.SkipLocked = sf, f.Limit, true
	return c.apply(ctx, tx, p)
}

// apply runs the change, wakes this Client's pools for jobs it made
// runnable, and logs it for the audit trail. Inside tx the pools wake on
// commit, through the NOTIFY the statement sends.
func (c *Client) apply(ctx context.Context, tx pgx.Tx, p jobsql.ChangeParams) (int, error) {
	var changed []jobsql.Changed
	var callbacks []*JobRow
	var err error
	if tx == nil && changesBatches(p.Action) {
		// Discarding or deleting a batch's job can finish the batch, and
		// retrying one reopens it: the change and the batch's new state,
		// with any callbacks, commit together.
		err = pgx.BeginTxFunc(ctx, c.db, pgx.TxOptions{IsoLevel: pgx.ReadCommitted},
			func(tx pgx.Tx) error {
				changed, callbacks, err = c.change(ctx, tx, p)
				return err
			})
	} else {
		changed, callbacks, err = c.change(ctx, c.dbtx(tx), p)
	}
	if err != nil {
		return 0, err
	}
	if tx == nil {
		c.wakeRows(callbacks, nil, false)
	}
	total := 0
	for _, ch := range changed {
		total += ch.Count
		if tx == nil && (p.Action == jobsql.ActionRetry || p.Action == jobsql.ActionReschedule) {
			c.wakeLocal(ch.Queue, ch.ScheduledAt)
		}
	}
	if total > 0 {
		c.logger.Info("jobs changed by admin", slog.String("action", actionNames[p.Action]),
			slog.Int("jobs", total))
	}
	return total, nil
}

// endsJobs reports whether the action ends jobs, which can finish their
// batches.
func endsJobs(a jobsql.Action) bool {
	return a == jobsql.ActionDiscard || a == jobsql.ActionDelete ||
		a == jobsql.ActionForceDiscard
}

// changesBatches reports whether the action can change the batches of the
// jobs it changes: ending jobs can finish them, retrying reopens them.
func changesBatches(a jobsql.Action) bool {
	return endsJobs(a) || a == jobsql.ActionRetry
}

// change runs the statement of p and, when it ended jobs of batches,
// settles those batches in the same transaction; when it retried jobs of
// batches, it reopens them (see reopenBatches).
func (c *Client) change(ctx context.Context, db jobsql.DBTX,
	p jobsql.ChangeParams) ([]jobsql.Changed, []*JobRow, error) {
	changed, err := jobsql.Change(ctx, db, p)
	if jobsql.IsUniqueViolation(err) {
		// A job with the key was enqueued or retried by a transaction that
		// committed after this statement's check.
		err = ErrUniqueConflict
	}
	if err != nil {
		return nil, nil, fmt.Errorf("goodjob: %s jobs: %w", actionNames[p.Action], err)
	}
	var batches []uuid.UUID
	for _, ch := range changed {
		batches = append(batches, ch.Batches...)
	}
	if !changesBatches(p.Action) || len(batches) == 0 {
		return changed, nil, nil
	}
	if p.Action == jobsql.ActionRetry {
		if err := c.reopenBatches(ctx, db, batches); err != nil {
			return nil, nil, err
		}
		return changed, nil, nil
	}
	callbacks, err := c.settleBatches(ctx, db, batches)
	if err != nil {
		return nil, nil, err
	}
	return changed, callbacks, nil
}

// dbtx is tx, or the Client's pool when tx is nil.
func (c *Client) dbtx(tx pgx.Tx) jobsql.DBTX {
	if tx == nil {
		return c.db
	}
	return tx
}
