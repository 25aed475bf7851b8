package jobsql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrNoBatch reports that no good_job_batches row has the given id.
var ErrNoBatch = errors.New("no such batch")

// BatchParams is one good_job_batches row to write. Empty callback kinds
// and queue are stored as NULL, and so is a nil CallbackPriority.
type BatchParams struct {
	ID               uuid.UUID
	Now              time.Time
	Description      string
	Properties       []byte // JSON object, or nil
	OnFinish         string
	OnSuccess        string
	OnDiscard        string
	CallbackQueue    string
	CallbackPriority *int32
}

const insertBatchSQL = `
INSERT INTO good_job_batches (
	id, created_at, updated_at, description, serialized_properties,
	on_finish, on_success, on_discard, callback_queue_name, callback_priority
) VALUES ($1, $2, $2, nullif($3, ''), $4, nullif($5, ''), nullif($6, ''), nullif($7, ''),
	nullif($8, ''), $9)`

// InsertBatch writes a new batch. It is not enqueued: its callbacks wait
// for SealBatch.
func InsertBatch(ctx context.Context, db DBTX, p BatchParams) error {
	_, err := db.Exec(ctx, insertBatchSQL, p.ID, p.Now, p.Description, p.Properties,
		p.OnFinish, p.OnSuccess, p.OnDiscard, p.CallbackQueue, p.CallbackPriority)
	if err != nil {
		return fmt.Errorf("insert batch %s: %w", p.ID, err)
	}
	return nil
}

// LockBatchForAdd takes a share lock on the batch for the rest of the
// transaction and reports whether its jobs have all finished already.
//
// The lock is what keeps a job being added from missing the batch's
// finish: settling a batch takes FOR UPDATE on the same row, so it waits
// until the new job is committed and then counts it. Adders share the
// lock and do not wait for each other.
func LockBatchForAdd(ctx context.Context, db DBTX, id uuid.UUID) (finished bool, err error) {
	err = db.QueryRow(ctx, `SELECT jobs_finished_at IS NOT NULL FROM good_job_batches
		WHERE id = $1 FOR SHARE`, id).Scan(&finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNoBatch
	}
	if err != nil {
		return false, fmt.Errorf("lock batch %s: %w", id, err)
	}
	return finished, nil
}

// SealBatch sets the batch's enqueued_at, GoodJob's mark that its
// callbacks may fire, unless it is set already. The update also locks the
// row for the rest of the transaction, as LockBatches does.
func SealBatch(ctx context.Context, db DBTX, id uuid.UUID, now time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE good_job_batches
		SET enqueued_at = coalesce(enqueued_at, $2), updated_at = $2 WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("seal batch %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNoBatch
	}
	return nil
}

// LockBatches locks the batches' rows for the rest of the transaction, in
// id order so that two transactions settling overlapping batches cannot
// deadlock. It returns the transaction's isolation level, since settling
// is only correct at READ COMMITTED.
//
// The lock must be its own statement: at READ COMMITTED each statement
// reads a new snapshot, so the statements after it see every job change
// committed by the transaction that held the lock before.
func LockBatches(ctx context.Context, db DBTX, ids []uuid.UUID) (isolation string, err error) {
	err = db.QueryRow(ctx, `SELECT current_setting('transaction_isolation'),
		(SELECT count(*) FROM (SELECT id FROM good_job_batches WHERE id = ANY($1)
			ORDER BY id FOR UPDATE) l)`, ids).Scan(&isolation, new(int64))
	if err != nil {
		return "", fmt.Errorf("lock %d batches: %w", len(ids), err)
	}
	return isolation, nil
}

// BatchEvents is what one settle of a batch decided: which of its events
// happened just now, and what its callbacks need.
type BatchEvents struct {
	ID               uuid.UUID
	Discard          bool // its first discarded job was seen just now
	Finish           bool // its jobs all finished just now
	AnyDiscarded     bool // it has had a discarded job, now or before
	Description      string
	Properties       []byte
	OnFinish         string
	OnSuccess        string
	OnDiscard        string
	CallbackQueue    string
	CallbackPriority *int32
}

// settleBatchesSQL records the events of the locked batches $1 at $2: the
// first discarded job (discarded_at) and, once the batch is enqueued, the
// end of its last job (jobs_finished_at). A column already set stays as it
// is, so each event is returned once: that is what makes its callback run
// exactly once. A discarded job is one finished with an error, as GoodJob
// counts it.
const settleBatchesSQL = `
WITH s AS (
	SELECT b.id,
		b.discarded_at IS NULL AND EXISTS (SELECT 1 FROM good_jobs g
			WHERE g.batch_id = b.id AND g.finished_at IS NOT NULL AND g.error IS NOT NULL)
			AS discard,
		b.jobs_finished_at IS NULL AND b.enqueued_at IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM good_jobs g WHERE g.batch_id = b.id AND g.finished_at IS NULL)
			AS finish
	FROM good_job_batches b WHERE b.id = ANY($1)
)
UPDATE good_job_batches b SET
	discarded_at = CASE WHEN s.discard THEN $2 ELSE b.discarded_at END,
	jobs_finished_at = CASE WHEN s.finish THEN $2 ELSE b.jobs_finished_at END,
	updated_at = $2
FROM s WHERE b.id = s.id AND (s.discard OR s.finish)
RETURNING b.id, s.discard, s.finish, b.discarded_at IS NOT NULL,
	coalesce(b.description, ''), b.serialized_properties, coalesce(b.on_finish, ''),
	coalesce(b.on_success, ''), coalesce(b.on_discard, ''),
	coalesce(b.callback_queue_name, ''), b.callback_priority`

// SettleBatches records what happened to the batches since their last
// settle and returns the batches with a new event. The caller must hold
// their locks (LockBatches or SealBatch) in the same transaction.
func SettleBatches(ctx context.Context, db DBTX, ids []uuid.UUID,
	now time.Time) ([]BatchEvents, error) {
	rows, err := db.Query(ctx, settleBatchesSQL, ids, now)
	if err != nil {
		return nil, fmt.Errorf("settle %d batches: %w", len(ids), err)
	}
	defer rows.Close()
	var out []BatchEvents
	for rows.Next() {
		var e BatchEvents
		if err := rows.Scan(&e.ID, &e.Discard, &e.Finish, &e.AnyDiscarded, &e.Description,
			&e.Properties, &e.OnFinish, &e.OnSuccess, &e.OnDiscard, &e.CallbackQueue,
			&e.CallbackPriority); err != nil {
			return nil, fmt.Errorf("settle batches: scan: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("settle %d batches: %w", len(ids), err)
	}
	return out, nil
}

// finishBatchesSQL sets finished_at on the locked batches $1 whose jobs and
// callback jobs have all finished, as GoodJob does: a batch counts as
// finished only once its callbacks have run too.
const finishBatchesSQL = `
UPDATE good_job_batches b SET finished_at = $2, updated_at = $2
WHERE b.id = ANY($1) AND b.finished_at IS NULL AND b.jobs_finished_at IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM good_jobs g
		WHERE g.batch_callback_id = b.id AND g.finished_at IS NULL)`

// FinishBatches sets finished_at on the batches that are done, callbacks
// included. The caller holds their locks.
func FinishBatches(ctx context.Context, db DBTX, ids []uuid.UUID, now time.Time) error {
	if _, err := db.Exec(ctx, finishBatchesSQL, ids, now); err != nil {
		return fmt.Errorf("finish %d batches: %w", len(ids), err)
	}
	return nil
}

// reopenBatchesSQL undoes, on the locked batches $1 at $2, the settled
// marks their jobs no longer support after a retry: jobs_finished_at while
// a job of the batch is unfinished, finished_at while a job or a callback
// job is, and discarded_at once no discarded job is left. The next settle
// then records those events again, and enqueues their callbacks again, as
// GoodJob does after a batch retry. A batch whose marks all still hold is
// left as it is.
const reopenBatchesSQL = `
WITH s AS (
	SELECT b.id,
		EXISTS (SELECT 1 FROM good_jobs g WHERE g.batch_id = b.id
			AND g.finished_at IS NOT NULL AND g.error IS NOT NULL) AS discarded,
		EXISTS (SELECT 1 FROM good_jobs g WHERE g.batch_id = b.id
			AND g.finished_at IS NULL) AS pending,
		EXISTS (SELECT 1 FROM good_jobs g WHERE g.batch_callback_id = b.id
			AND g.finished_at IS NULL) AS callbacks_pending
	FROM good_job_batches b WHERE b.id = ANY($1)
)
UPDATE good_job_batches b SET
	discarded_at = CASE WHEN s.discarded THEN b.discarded_at END,
	jobs_finished_at = CASE WHEN s.pending THEN NULL ELSE b.jobs_finished_at END,
	finished_at = CASE WHEN s.pending OR s.callbacks_pending THEN NULL ELSE b.finished_at END,
	updated_at = $2
FROM s WHERE b.id = s.id AND (
	(b.discarded_at IS NOT NULL AND NOT s.discarded)
	OR (b.jobs_finished_at IS NOT NULL AND s.pending)
	OR (b.finished_at IS NOT NULL AND (s.pending OR s.callbacks_pending)))`

// ReopenBatches clears the settled marks of the batches that retried jobs
// made untrue (see reopenBatchesSQL). The caller holds their locks
// (LockBatches), taken after the jobs were changed, in the same
// transaction.
func ReopenBatches(ctx context.Context, db DBTX, ids []uuid.UUID, now time.Time) error {
	if _, err := db.Exec(ctx, reopenBatchesSQL, ids, now); err != nil {
		return fmt.Errorf("reopen %d batches: %w", len(ids), err)
	}
	return nil
}

// BatchExists reports whether the batch id has a row. It takes no lock.
func BatchExists(ctx context.Context, db DBTX, id uuid.UUID) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM good_job_batches WHERE id = $1)`,
		id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("find batch %s: %w", id, err)
	}
	return ok, nil
}

// BatchRecord is a batch's row with its jobs counted.
type BatchRecord struct {
	BatchEvents
	CreatedAt      time.Time
	EnqueuedAt     *time.Time
	DiscardedAt    *time.Time
	JobsFinishedAt *time.Time
	FinishedAt     *time.Time
	Jobs           int // jobs in the batch
	Finished       int // of them, finished
	Discarded      int // of them, finished with an error
	Callbacks      int // callback jobs enqueued
}

// batchColumns are a BatchRecord's columns, read from good_job_batches b
// joined with batchJobCounts j; scanBatch reads them in this order. The
// counts go through the partial indexes on batch_id and batch_callback_id.
const batchColumns = `b.id, coalesce(b.description, ''), b.serialized_properties,
	coalesce(b.on_finish, ''), coalesce(b.on_success, ''), coalesce(b.on_discard, ''),
	coalesce(b.callback_queue_name, ''), b.callback_priority, b.created_at,
	b.enqueued_at, b.discarded_at, b.jobs_finished_at, b.finished_at,
	j.total, j.finished, j.discarded,
	(SELECT count(*) FROM good_jobs c WHERE c.batch_callback_id = b.id)`

// batchJobCounts counts the jobs of the batch b, callbacks left out.
const batchJobCounts = `LATERAL (
	SELECT count(*) AS total,
		count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished,
		count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NOT NULL) AS discarded
	FROM good_jobs g WHERE g.batch_id = b.id
) j`

func scanBatch(row pgx.Row) (BatchRecord, error) {
	var r BatchRecord
	err := row.Scan(&r.ID, &r.Description, &r.Properties, &r.OnFinish, &r.OnSuccess,
		&r.OnDiscard, &r.CallbackQueue, &r.CallbackPriority, &r.CreatedAt, &r.EnqueuedAt,
		&r.DiscardedAt, &r.JobsFinishedAt, &r.FinishedAt, &r.Jobs, &r.Finished, &r.Discarded,
		&r.Callbacks)
	return r, err
}

const getBatchSQL = `SELECT ` + batchColumns + `
FROM good_job_batches b, ` + batchJobCounts + `
WHERE b.id = $1`

// GetBatch returns the batch id with its jobs counted, or ErrNoBatch.
func GetBatch(ctx context.Context, db DBTX, id uuid.UUID) (BatchRecord, error) {
	r, err := scanBatch(db.QueryRow(ctx, getBatchSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNoBatch
	}
	if err != nil {
		return r, fmt.Errorf("get batch %s: %w", id, err)
	}
	return r, nil
}

// Batch states for ListBatches, as GoodJob's predicates on a batch's row.
// They overlap: a batch with a discarded job is also open or finished.
const (
	BatchOpen      = "open"      // finished_at not set
	BatchFinished  = "finished"  // finished_at set: its jobs and callbacks are done
	BatchDiscarded = "discarded" // discarded_at set: one of its jobs was discarded
)

var batchStatePredicates = map[string]string{
	BatchOpen:      "finished_at IS NULL",
	BatchFinished:  "finished_at IS NOT NULL",
	BatchDiscarded: "discarded_at IS NOT NULL",
}

// ValidBatchState reports whether s names a batch state.
func ValidBatchState(s string) bool {
	_, ok := batchStatePredicates[s]
	return ok
}

// ListBatches returns up to limit batches in state (any when empty) that
// come after the cursor, newest first by id, each with its jobs counted.
// The page is cut in a subquery before the counts, so the statement counts
// the jobs of the returned batches only.
func ListBatches(ctx context.Context, db DBTX, state string, after *Cursor,
	limit int) ([]BatchRecord, error) {
	q := &query{}
	conds := []string{"true"}
	if state != "" {
		conds = append(conds, batchStatePredicates[state])
	}
	if after != nil {
		conds = append(conds, "id < "+q.arg(after.ID)+"::uuid")
	}
	sql := "SELECT " + batchColumns + "\nFROM (SELECT * FROM good_job_batches WHERE " +
		strings.Join(conds, " AND ") + " ORDER BY id DESC LIMIT " + q.arg(limit) + ") b, " +
		batchJobCounts + "\nORDER BY b.id DESC"
	rows, err := db.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	defer rows.Close()
	var out []BatchRecord
	for rows.Next() {
		r, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("list batches: scan: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return out, nil
}

// SortedBatchIDs returns the distinct ids in order, ready for LockBatches.
func SortedBatchIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(out)
}
