package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Action is an operator's change to jobs.
type Action int

// The admin changes.
const (
	// ActionRetry runs a discarded job again now: GoodJob's retry_job.
	ActionRetry Action = iota + 1
	// ActionDiscard finishes an unfinished job with an error.
	ActionDiscard
	// ActionReschedule moves an unfinished job's scheduled_at.
	ActionReschedule
	// ActionDelete removes a job and its executions.
	ActionDelete
	// ActionForceDiscard finishes an unfinished job with an error even
	// while a worker holds it: GoodJob's force_discard_job.
	ActionForceDiscard
)

// unheld leaves out jobs a worker holds, which every action but
// ActionForceDiscard refuses to change.
const unheld = " AND locked_by_id IS NULL"

// preconditions says which rows each action may change.
var preconditions = map[Action]string{
	ActionRetry:        "finished_at IS NOT NULL AND error IS NOT NULL AND " + keyFree + unheld,
	ActionDiscard:      "finished_at IS NULL" + unheld,
	ActionReschedule:   "finished_at IS NULL" + unheld,
	ActionDelete:       "true" + unheld,
	ActionForceDiscard: "finished_at IS NULL",
}

// keyFree holds for a job whose unique key no unfinished job of its kind
// holds, so that retrying it cannot break the unique index. A job without
// a key always qualifies.
const keyFree = `(unique_key IS NULL OR NOT EXISTS (
	SELECT 1 FROM good_jobs h WHERE h.job_class = good_jobs.job_class
		AND h.unique_key = good_jobs.unique_key AND h.finished_at IS NULL))`

// oneRetryPerKey keeps, of the picked jobs that share a kind and unique key,
// only the newest: retrying two of them would give the key two unfinished
// jobs. Jobs without a key are all kept.
const oneRetryPerKey = `(SELECT DISTINCT ON (job_class, unique_key, solo) id FROM (
	SELECT id, job_class, unique_key, created_at,
		CASE WHEN unique_key IS NULL THEN id END AS solo FROM picked) k
	ORDER BY job_class, unique_key, solo, created_at DESC, id DESC)`

// ChangeParams describes one admin change.
type ChangeParams struct {
	Action Action
	Filter Filter
	// Limit caps the rows changed; 0 means every matching row.
	Limit int
	// SkipLocked skips rows another transaction holds instead of waiting
	// for it. Bulk changes skip them; a change by id waits, so that it can
	// tell a job a worker just claimed from one that does not qualify.
	SkipLocked bool
	// At is the new scheduled_at of ActionReschedule, in UTC.
	At time.Time
	// Error is the error text ActionDiscard writes.
	Error string
}

// Changed counts the jobs a change touched in one queue, with their
// earliest scheduled_at, so the caller can wake its own pools.
type Changed struct {
	Queue       string
	ScheduledAt time.Time
	Count       int
	// Batches are the batches the changed jobs belong to or are callbacks
	// of, since discarding or deleting a job can finish its batch.
	Batches []uuid.UUID
}

// batchesSQL lists, per queue, the batches of the changed rows.
const batchesSQL = `,
	array_remove(array_agg(DISTINCT coalesce(batch_id, batch_callback_id)), NULL)`

// notifySQL wakes the workers of each queue a change made runnable, in the
// same statement, with the payload enqueue sends.
const notifySQL = `, length(pg_notify('good_job', json_build_object(
	'queue_name', queue_name,
	'scheduled_at', to_char(min(scheduled_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	'count', count(*))::text)::text)`

// changeSQL builds the statement of p: pick the rows, change them, and
// return one row per queue.
func changeSQL(p ChangeParams) (string, []any) {
	q := &query{args: []any{p.Filter.Now}}
	pick := "SELECT id, job_class, unique_key, created_at, locked_by_id, performed_at" +
		" FROM good_jobs WHERE " + p.Filter.where(q) + " AND " + preconditions[p.Action] +
		" ORDER BY created_at, id"
	if p.Limit > 0 {
		pick += " LIMIT " + q.arg(p.Limit)
	}
	pick += " FOR UPDATE"
	if p.SkipLocked {
		pick += " SKIP LOCKED"
	}
	var change, notify string
	from := "picked"
	switch p.Action {
	case ActionRetry:
		from = oneRetryPerKey
		change = `UPDATE good_jobs g SET finished_at = NULL, performed_at = NULL, error = NULL,
			error_event = NULL, scheduled_at = $1, updated_at = $1`
		notify = notifySQL
	case ActionReschedule:
		change = "UPDATE good_jobs g SET scheduled_at = " + q.arg(p.At) + ", updated_at = $1"
		notify = notifySQL
	case ActionDiscard:
		change = "UPDATE good_jobs g SET finished_at = $1, error = " + q.arg(p.Error) +
			", error_event = " + q.arg(EventDiscarded) + ", updated_at = $1"
	case ActionDelete:
		return deleteSQL(pick), q.args
	case ActionForceDiscard:
		return forceDiscardSQL(pick, q.arg(p.Error), q.arg(EventDiscarded)), q.args
	}
	sql := "WITH picked AS (" + pick + "), upd AS (" + change +
		" FROM " + from + " p WHERE g.id = p.id" +
		" RETURNING g.queue_name, g.scheduled_at, g.batch_id, g.batch_callback_id)" +
		" SELECT coalesce(queue_name, ''), min(scheduled_at), count(*)" + batchesSQL + notify +
		" FROM upd GROUP BY queue_name"
	return sql, q.args
}

// deleteSQL removes the picked jobs and every execution of them.
func deleteSQL(pick string) string {
	return "WITH picked AS (" + pick + `), del AS (
	DELETE FROM good_jobs g USING picked p WHERE g.id = p.id
	RETURNING coalesce(g.active_job_id, g.id) AS active_job_id, g.queue_name, g.scheduled_at,
		g.batch_id, g.batch_callback_id
), ex AS (
	DELETE FROM good_job_executions e USING del WHERE e.active_job_id = del.active_job_id
)
SELECT coalesce(queue_name, ''), min(scheduled_at), count(*)` + batchesSQL + `
FROM del GROUP BY queue_name`
}

// Change applies p in one statement and returns what it changed per queue.
func Change(ctx context.Context, db DBTX, p ChangeParams) ([]Changed, error) {
	sql, args := changeSQL(p)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("change jobs: %w", err)
	}
	defer rows.Close()
	var out []Changed
	for rows.Next() {
		var c Changed
		var sched *time.Time
		dest := []any{&c.Queue, &sched, &c.Count, &c.Batches}
		if p.Action == ActionRetry || p.Action == ActionReschedule {
			dest = append(dest, new(int))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("change jobs: scan: %w", err)
		}
		if sched != nil {
			c.ScheduledAt = *sched
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("change jobs: %w", err)
	}
	return out, nil
}
