package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// RecoverParams says which processes count as gone.
type RecoverParams struct {
	// Self is the sweeping process; it never judges itself.
	Self uuid.UUID
	// Now is the time written to the released rows.
	Now time.Time
	// StaleBefore is Now minus the lease: a process of this library (its
	// state names Scheduler) whose heartbeat is older is gone, and so is the
	// owner of a job locked before it whose locked_by_id names no process
	// row at all.
	StaleBefore time.Time
	// ForeignStaleBefore is Now minus GoodJob's expiry (5 minutes): a row
	// some other library wrote, such as GoodJob itself, is gone once its
	// updated_at is older than this, unless it is an advisory-heartbeat row
	// (lock_type 0) whose session advisory lock is still held.
	ForeignStaleBefore time.Time
	// Scheduler is the state->>'scheduler' value this library writes; rows
	// without it follow GoodJob's liveness rules.
	Scheduler string
	// Error is the text stored on each released job and its execution.
	Error string
}

// RecoverResult counts what a sweep did.
type RecoverResult struct {
	Processes int // dead process rows deleted
	Jobs      int // jobs released
}

// recoverSQL deletes dead process rows and releases their jobs in one
// statement, recording an interrupted execution for each, counting the run
// as an attempt in serialized_params.executions, and waking the workers of
// each queue that got jobs back (delivered on commit). Every sub-statement
// sees the snapshot taken before the DELETE, so the orphan test (no process
// row) cannot see the deletions and the dead CTE is named explicitly.
//
// Liveness depends on who wrote the row. Our rows heartbeat every few
// seconds, so they get the short lease ($2). GoodJob refreshes its row only
// when it is over 30 s old and on some triggers, so its rows are judged as
// GoodJob judges them: dead once updated_at is older than 5 minutes ($5),
// except that a row with lock_type 0 is alive for as long as a session holds
// its advisory lock, the bigint GoodJob makes from the first 16 hex digits
// of md5('good_job_processes-' || id). pg_locks shows a bigint key as its
// high half in classid and its low half in objid, with objsubid 1; advisory
// locks belong to one database, hence the database filter. A lock_type 0
// row that lost its lock (its Notifier is reconnecting) also gets the 5
// minutes, which is more patient than GoodJob's own cleanup. A job whose
// own GoodJob advisory lock is held (the key of 'good_jobs-' || id, which
// GoodJob's advisory and hybrid strategies hold while the job runs) is never
// released, whatever its locked_by_id says. The held CTE reads pg_locks
// once for the statement.
//
// Concurrent sweeps are safe: the DELETE and FOR UPDATE wait on each other's
// row locks and re-check their conditions, so a job is released once. A
// completion racing the sweep is fenced the same way: whichever commits
// first wins, and the other finds locked_by_id changed.
var recoverSQL = `
WITH ` + heldLocksCTE + `, dead AS (
	DELETE FROM good_job_processes p WHERE p.id <> $1 AND ` + processGone("$2", "$5", "$6") + `
	RETURNING p.id
), old AS (
	SELECT g.id, g.locked_by_id, g.performed_at FROM good_jobs g
	WHERE g.finished_at IS NULL AND g.locked_by_id IS NOT NULL AND g.locked_by_id <> $1
		AND (g.locked_by_id IN (SELECT id FROM dead)
			OR (g.locked_at < $2 AND NOT EXISTS (
				SELECT 1 FROM good_job_processes p WHERE p.id = g.locked_by_id)))
		AND NOT EXISTS (SELECT 1 FROM held WHERE held.key =
			('x' || left(md5('good_jobs-' || g.id::text), 16))::bit(64)::bigint)
	FOR UPDATE OF g
), released AS (
	UPDATE good_jobs g SET
		locked_by_id = NULL, locked_at = NULL, performed_at = NULL,
		error = $4, error_event = 0, updated_at = $3,
		serialized_params = jsonb_set(g.serialized_params, '{executions}',
			to_jsonb(coalesce((g.serialized_params->>'executions')::int, 0) + 1))
	FROM old WHERE g.id = old.id AND g.locked_by_id = old.locked_by_id
	RETURNING g.id, coalesce(g.active_job_id, g.id) AS active_job_id, g.job_class,
		g.queue_name, g.serialized_params, g.scheduled_at,
		old.locked_by_id, coalesce(old.performed_at, $3) AS started_at
), recorded AS (
	INSERT INTO good_job_executions (
		id, created_at, updated_at, active_job_id, job_class, queue_name,
		serialized_params, scheduled_at, finished_at, error, error_event,
		process_id, duration
	)
	SELECT gen_random_uuid(), r.started_at, $3, r.active_job_id, r.job_class, r.queue_name,
		r.serialized_params, r.scheduled_at, $3, $4, 0, r.locked_by_id, $3 - r.started_at
	FROM released r
	RETURNING 1
), woken AS (
	SELECT pg_notify('good_job', json_build_object('queue_name', queue_name)::text)
	FROM (SELECT DISTINCT queue_name FROM released) q
)
SELECT (SELECT count(*) FROM dead), (SELECT count(*) FROM recorded),
	(SELECT count(*) FROM woken)`

// heldLocksCTE names held: the keys of the session advisory locks granted
// in this database, read from pg_locks once per statement. pg_locks shows a
// bigint key as its high half in classid and its low half in objid, with
// objsubid 1.
const heldLocksCTE = `held AS MATERIALIZED (
	SELECT (l.classid::bigint << 32) | l.objid::bigint AS key FROM pg_locks l
	WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
)`

// processGone is the predicate, on good_job_processes p and the held CTE,
// of a process row that counts as gone (see recoverSQL). Its arguments are
// the placeholders of StaleBefore, ForeignStaleBefore and Scheduler.
func processGone(staleBefore, foreignStaleBefore, scheduler string) string {
	return `CASE
		WHEN p.state->>'scheduler' = ` + scheduler + ` THEN p.updated_at < ` + staleBefore + `
		ELSE p.updated_at < ` + foreignStaleBefore + ` AND NOT (coalesce(p.lock_type = 0, false)
			AND EXISTS (SELECT 1 FROM held WHERE held.key =
				('x' || left(md5('good_job_processes-' || p.id::text), 16))::bit(64)::bigint))
		END`
}

// Recover releases the jobs of processes that count as dead under
// recoverSQL's rules and deletes their rows.
func Recover(ctx context.Context, db DBTX, p RecoverParams) (RecoverResult, error) {
	var r RecoverResult
	var queues int
	err := db.QueryRow(ctx, recoverSQL, p.Self, p.StaleBefore, p.Now, p.Error,
		p.ForeignStaleBefore, p.Scheduler).Scan(&r.Processes, &r.Jobs, &queues)
	if err != nil {
		return RecoverResult{}, fmt.Errorf("recover jobs of dead processes: %w", err)
	}
	return r, nil
}

// LockedBefore returns the unfinished jobs processID locked before t. A
// process compares them with the jobs it knows it runs: a claim whose reply
// was lost to a broken connection may have committed all the same.
func LockedBefore(ctx context.Context, db DBTX, processID uuid.UUID,
	t time.Time) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `SELECT id FROM good_jobs
		WHERE locked_by_id = $1 AND finished_at IS NULL AND locked_at < $2`, processID, t)
	if err != nil {
		return nil, fmt.Errorf("list jobs locked by %s: %w", processID, err)
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list jobs locked by %s: scan: %w", processID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs locked by %s: %w", processID, err)
	}
	return ids, nil
}

// NotifyQueues wakes the workers of every queue that holds one of ids,
// once per queue, after jobs were handed back to the queue.
func NotifyQueues(ctx context.Context, db DBTX, ids []uuid.UUID) error {
	_, err := db.Exec(ctx, `SELECT pg_notify('good_job',
		json_build_object('queue_name', queue_name)::text)
		FROM (SELECT DISTINCT queue_name FROM good_jobs WHERE id = ANY($1)) q`, ids)
	if err != nil {
		return fmt.Errorf("notify queues of %d jobs: %w", len(ids), err)
	}
	return nil
}
