package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CleanupLockClass is the first key of the pg_advisory_xact_lock that lets
// one process clean at a time: "gjcl" read as a big-endian int32. The second
// key is the oid of the good_jobs table the statements resolve to, so the
// schemas of one database (tenants, tests) clean independently. Each batch
// takes the lock in its own short transaction, so none outlives a batch.
const CleanupLockClass int32 = 0x676a636c

const (
	cleanupLockSQL    = "SELECT pg_advisory_xact_lock($1, 'good_jobs'::regclass::oid::int)"
	cleanupTryLockSQL = "SELECT pg_try_advisory_xact_lock($1, 'good_jobs'::regclass::oid::int)"
)

// ErrCleanupBusy is returned by CleanupBatch when another transaction holds
// the cleanup lock and the caller asked not to wait.
var ErrCleanupBusy = errors.New("cleanup lock held by another process")

// CleanupParams selects one batch of finished rows to delete.
type CleanupParams struct {
	Before           time.Time // finished_at cutoff, UTC
	Limit            int       // rows per statement
	IncludeDiscarded bool      // also delete jobs that finished with an error
	Wait             bool      // wait for the lock instead of returning ErrCleanupBusy
}

// CleanupCounts is what one batch deleted.
type CleanupCounts struct {
	Jobs, Executions, Batches int
}

// cleanupJobsSQL deletes the oldest finished jobs before the cutoff and
// their executions. finished_at < $1 implies finished_at IS NOT NULL, so the
// partial index on finished_at serves the scan; SKIP LOCKED passes over a
// row an operator is changing instead of waiting for it.
const cleanupJobsSQL = `
WITH picked AS (
	SELECT id, coalesce(active_job_id, id) AS active_job_id FROM good_jobs
	WHERE finished_at < $1 AND locked_by_id IS NULL%s
	ORDER BY finished_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
), jobs AS (
	DELETE FROM good_jobs g USING picked p WHERE g.id = p.id
	RETURNING p.active_job_id
), execs AS (
	DELETE FROM good_job_executions e USING jobs j WHERE e.active_job_id = j.active_job_id
	RETURNING 1
)
SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM execs)`

// cleanupBatchesSQL deletes batches that finished before the cutoff. A
// batch finishes after all its jobs, so their rows are older and go first.
const cleanupBatchesSQL = `
WITH picked AS (
	SELECT id FROM good_job_batches WHERE finished_at < $1%s
	ORDER BY finished_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
)
DELETE FROM good_job_batches b USING picked p WHERE b.id = p.id`

var (
	cleanupAllJobsSQL          = fmt.Sprintf(cleanupJobsSQL, "")
	cleanupSucceededJobsSQL    = fmt.Sprintf(cleanupJobsSQL, " AND error IS NULL")
	cleanupAllBatchesSQL       = fmt.Sprintf(cleanupBatchesSQL, "")
	cleanupSucceededBatchesSQL = fmt.Sprintf(cleanupBatchesSQL, " AND discarded_at IS NULL")
)

// Beginner starts transactions: a pool or a connection.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// CleanupBatch deletes up to p.Limit jobs (with their executions) and up to
// p.Limit batches in one transaction that holds the cleanup lock.
func CleanupBatch(ctx context.Context, db Beginner, p CleanupParams) (CleanupCounts, error) {
	var n CleanupCounts
	tx, err := db.Begin(ctx)
	if err != nil {
		return n, fmt.Errorf("clean up: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	if err := CleanupLock(ctx, tx, p.Wait); err != nil {
		return n, err
	}
	jobsSQL, batchesSQL := cleanupSucceededJobsSQL, cleanupSucceededBatchesSQL
	if p.IncludeDiscarded {
		jobsSQL, batchesSQL = cleanupAllJobsSQL, cleanupAllBatchesSQL
	}
	if err := tx.QueryRow(ctx, jobsSQL, p.Before, p.Limit).Scan(&n.Jobs,
		&n.Executions); err != nil {
		return n, fmt.Errorf("clean up jobs: %w", err)
	}
	tag, err := tx.Exec(ctx, batchesSQL, p.Before, p.Limit)
	if err != nil {
		return n, fmt.Errorf("clean up batches: %w", err)
	}
	n.Batches = int(tag.RowsAffected())
	if err := tx.Commit(ctx); err != nil {
		return CleanupCounts{}, fmt.Errorf("clean up: commit: %w", err)
	}
	return n, nil
}

// CleanupLock takes the cleanup lock for the rest of tx, or reports
// ErrCleanupBusy at once when wait is false and another process holds it.
func CleanupLock(ctx context.Context, tx pgx.Tx, wait bool) error {
	if wait {
		if _, err := tx.Exec(ctx, cleanupLockSQL, CleanupLockClass); err != nil {
			return fmt.Errorf("clean up: lock: %w", err)
		}
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, cleanupTryLockSQL, CleanupLockClass).Scan(&ok); err != nil {
		return fmt.Errorf("clean up: lock: %w", err)
	}
	if !ok {
		return ErrCleanupBusy
	}
	return nil
}
