package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Concurrency checks serialize on a transaction-scoped advisory lock per
// concurrency key: its first half is good_jobs' oid, so schemas that each
// hold a good_jobs table never wait on each other, and its second half is a
// hash of the key. Two keys that hash alike share a lock, which only makes
// their checks wait on each other. A transaction-scoped lock is released by
// COMMIT or ROLLBACK, so it works behind PgBouncer in transaction mode.
//
// The count that follows the lock must run in a later statement than the
// lock: under READ COMMITTED each statement takes a fresh snapshot, so the
// count sees every job that the previous holder of the lock committed.

// lockKeysSQL locks every key of $1, in the order of the lock ids so that two
// transactions locking overlapping keys cannot deadlock, and reports the
// transaction's isolation level.
const lockKeysSQL = `
SELECT current_setting('transaction_isolation'), (
	SELECT count(pg_advisory_xact_lock('good_jobs'::regclass::oid::int, h))
	FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) k ORDER BY h) ids)`

// ErrRepeatableRead reports a concurrency check attempted in a REPEATABLE
// READ transaction, whose single snapshot cannot see jobs that other
// transactions committed while it waited for the key's lock.
var ErrRepeatableRead = errors.New(
	"concurrency limits need a READ COMMITTED or SERIALIZABLE transaction")

// LockKeys takes the advisory lock of every key for the rest of tx.
func LockKeys(ctx context.Context, tx pgx.Tx, keys []string) error {
	var (
		isolation string
		n         int64
	)
	if err := tx.QueryRow(ctx, lockKeysSQL, keys).Scan(&isolation, &n); err != nil {
		return fmt.Errorf("lock concurrency keys: %w", err)
	}
	if isolation == "repeatable read" {
		return ErrRepeatableRead
	}
	return nil
}

// KeyCounts is what the enqueue-side limits of one key look at.
type KeyCounts struct {
	Unfinished int // queued, scheduled and running
	Waiting    int // unfinished and not running: queued or scheduled
	Created    int // created at or after the throttle's cutoff
}

// keyCountsSQL counts through the partial indexes on concurrency_key: the
// unfinished one for the limits, the created_at one for the throttle. A job
// runs once performed_at is set; a job claimed but not yet admitted by the
// perform limit is still waiting.
const keyCountsSQL = `
SELECT count(*), count(*) FILTER (WHERE performed_at IS NULL),
	(SELECT count(*) FROM good_jobs WHERE concurrency_key = $1 AND created_at >= $2)
FROM good_jobs WHERE concurrency_key = $1 AND finished_at IS NULL`

// CountKey counts the jobs of key for the enqueue-side limits. createdSince
// is the throttle's cutoff; a zero time skips that count.
func CountKey(ctx context.Context, db DBTX, key string, createdSince time.Time) (KeyCounts, error) {
	var c KeyCounts
	var since *time.Time
	if !createdSince.IsZero() {
		since = &createdSince
	}
	err := db.QueryRow(ctx, keyCountsSQL, key, since).Scan(&c.Unfinished, &c.Waiting, &c.Created)
	if err != nil {
		return c, fmt.Errorf("count jobs of concurrency key: %w", err)
	}
	return c, nil
}

// AdmitParams asks to start one claimed job under its key's perform limits.
type AdmitParams struct {
	ID        uuid.UUID
	ProcessID uuid.UUID
	Key       string
	// Limit is the most jobs of Key that may run at once; 0 is no limit.
	Limit int
	// ThrottleCount attempts may start within ThrottlePeriod; 0 is no
	// throttle.
	ThrottleCount  int
	ThrottlePeriod time.Duration
}

// Admission is the outcome of Admit.
type Admission struct {
	Admitted bool
	Running  int // jobs of the key running, without this one
	Started  int // attempts of the key started within the throttle period
	// Lost reports that the job was no longer locked by the process.
	Lost bool
	// StartedAt is the database's time when the check ran, written to
	// performed_at when the job was admitted.
	StartedAt time.Time
}

// admitSQL counts, then marks the job running by setting performed_at, in
// one statement whose snapshot postdates the key's lock.
//
// The start is read from the database's clock while the statement runs,
// after its snapshot was taken: every attempt that made room for this one
// had its outcome committed before that, so the recorded runs of a key
// never overlap more than its limit allows. clock_timestamp() AT TIME ZONE
// 'UTC' is UTC whatever the session's TimeZone.
//
// Running jobs are the unfinished ones with performed_at set. Attempts
// started within the throttle period ($6) are those still running plus
// the good_job_executions rows created since then, each written when an
// attempt ends with created_at at its start. Only jobs unfinished or
// finished since the cutoff can own such rows, and both sets come from
// partial indexes on concurrency_key.
const admitSQL = `
WITH clock AS (
	SELECT clock_timestamp() AT TIME ZONE 'UTC' AS now
), cutoff AS (
	SELECT CASE WHEN $6::bigint > 0 THEN now - make_interval(secs => $6 / 1e6) END AS t
	FROM clock
), running AS (
	SELECT count(*) AS n FROM good_jobs
	WHERE concurrency_key = $3 AND finished_at IS NULL AND performed_at IS NOT NULL
), started AS (
	SELECT CASE WHEN c.t IS NULL THEN 0 ELSE
		(SELECT count(*) FROM good_jobs
			WHERE concurrency_key = $3 AND finished_at IS NULL AND performed_at >= c.t)
		+ (SELECT count(*) FROM good_job_executions e JOIN (
			SELECT active_job_id FROM good_jobs
				WHERE concurrency_key = $3 AND finished_at IS NULL
			UNION ALL
			SELECT active_job_id FROM good_jobs
				WHERE concurrency_key = $3 AND finished_at >= c.t
		) j ON e.active_job_id = j.active_job_id
		WHERE e.created_at >= c.t)
	END AS n
	FROM cutoff c
), admitted AS (
	UPDATE good_jobs g SET performed_at = k.now, concurrency_key = $3, updated_at = k.now
	FROM running r, started s, clock k
	WHERE g.id = $1 AND g.locked_by_id = $2 AND g.finished_at IS NULL
		AND ($4 = 0 OR r.n < $4) AND ($5 = 0 OR s.n < $5)
	RETURNING g.id
)
SELECT r.n, s.n, (SELECT count(*) FROM admitted),
	EXISTS (SELECT 1 FROM good_jobs WHERE id = $1 AND locked_by_id = $2), k.now
FROM running r, started s, clock k`

// Admit takes the key's lock in its own short transaction and marks the
// job running if the key has room under its perform limit and throttle.
// A job not admitted stays locked by the process, not running, for the
// caller to put back with PutBack.
func Admit(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, p AdmitParams) (Admission, error) {
	var a Admission
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := LockKeys(ctx, tx, []string{p.Key}); err != nil {
			return err
		}
		var admitted int
		var locked bool
		err := tx.QueryRow(ctx, admitSQL, p.ID, p.ProcessID, p.Key, p.Limit, p.ThrottleCount,
			p.ThrottlePeriod.Microseconds()).Scan(&a.Running, &a.Started, &admitted, &locked,
			&a.StartedAt)
		if err != nil {
			return err
		}
		a.Admitted, a.Lost = admitted == 1, !locked
		return nil
	})
	if err != nil {
		return Admission{}, fmt.Errorf("admit job %s: %w", p.ID, err)
	}
	a.StartedAt = a.StartedAt.UTC()
	return a, nil
}

// putBackSQL returns claimed jobs that never started to the queue at a later
// scheduled_at, undoing the claim's executions_count bump: no execution row
// is written and no attempt is counted. Fenced by locked_by_id like
// completions.
const putBackSQL = `
UPDATE good_jobs g SET
	locked_by_id = NULL, locked_at = NULL, performed_at = NULL,
	scheduled_at = d.next_at, updated_at = $2,
	executions_count = greatest(coalesce(g.executions_count, 1) - 1, 0)
FROM unnest($3::uuid[], $4::timestamp[]) AS d(id, next_at)
WHERE g.id = d.id AND g.locked_by_id = $1 AND g.finished_at IS NULL`

// PutBack unlocks jobs that processID claimed but did not start, each due
// again at its NextAt, and returns how many it put back.
func PutBack(ctx context.Context, db DBTX, processID uuid.UUID, now time.Time,
	cs []Completion) (int, error) {
	ids := make([]uuid.UUID, len(cs))
	next := make([]time.Time, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		next[i] = now
		if c.NextAt != nil {
			next[i] = *c.NextAt
		}
	}
	tag, err := db.Exec(ctx, putBackSQL, processID, now, ids, next)
	if err != nil {
		return 0, fmt.Errorf("put back %d jobs: %w", len(cs), err)
	}
	return int(tag.RowsAffected()), nil
}
