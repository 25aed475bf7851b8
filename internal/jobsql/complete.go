package jobsql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Completion is the outcome of one attempt, written to the job's row and as
// one good_job_executions row. Times are UTC.
type Completion struct {
	ID          uuid.UUID
	ScheduledAt time.Time // the job's scheduled_at for this attempt; zero keeps the row's
	StartedAt   time.Time
	EndedAt     time.Time
	// Finished sets finished_at: success, discard or retries exhausted.
	// Otherwise the job goes back to waiting, at NextAt when it is set.
	Finished bool
	NextAt   *time.Time
	Error    *string
	Event    *int16
	// CountExecution bumps serialized_params.executions, as ActiveJob does
	// when it re-enqueues a job for a retry.
	CountExecution bool
	Backtrace      []string
	// Queue is not written; it tells the caller which pools to wake for
	// NextAt once the completion is stored.
	Queue string
	// BatchID and BatchCallbackID are not written either: they come from
	// the claim and tell the caller which batches to settle.
	BatchID         *uuid.UUID
	BatchCallbackID *uuid.UUID
	// PutBack marks a job that was claimed but never started: it goes back
	// to the queue at NextAt through PutBack, not Complete, with no
	// execution row and no attempt counted.
	PutBack bool
}

// Batched reports whether finishing the job may change a batch.
func (c *Completion) Batched() bool {
	return c.Finished && (c.BatchID != nil || c.BatchCallbackID != nil)
}

// completeSQL finishes or reschedules a batch of jobs and records one
// execution row per job, all in one statement. The update is fenced by
// locked_by_id: a process that lost a job (its lease expired and another
// process released it) writes nothing for it.
const completeSQL = `
WITH d AS (
	SELECT * FROM unnest(
		$3::uuid[], $4::timestamp[], $5::timestamp[], $6::timestamp[], $7::bool[],
		$8::timestamp[], $9::text[], $10::smallint[], $11::bool[], $12::text[]
	) AS d(id, scheduled_at, started_at, ended_at, finished, next_at, error,
		error_event, count_execution, backtrace)
), upd AS (
	UPDATE good_jobs g SET
		finished_at = CASE WHEN d.finished THEN d.ended_at END,
		performed_at = CASE WHEN d.finished THEN g.performed_at END,
		scheduled_at = coalesce(d.next_at, g.scheduled_at),
		error = d.error,
		error_event = d.error_event,
		serialized_params = CASE WHEN d.count_execution THEN jsonb_set(
			g.serialized_params, '{executions}',
			to_jsonb(coalesce((g.serialized_params->>'executions')::int, 0) + 1))
			ELSE g.serialized_params END,
		locked_by_id = NULL, locked_at = NULL, updated_at = $2
	FROM d WHERE g.id = d.id AND g.locked_by_id = $1
	RETURNING g.id, coalesce(g.active_job_id, g.id) AS active_job_id, g.job_class,
		g.queue_name, g.serialized_params, g.scheduled_at
)
INSERT INTO good_job_executions (
	id, created_at, updated_at, active_job_id, job_class, queue_name,
	serialized_params, scheduled_at, finished_at, error, error_event,
	error_backtrace, process_id, duration
)
SELECT gen_random_uuid(), d.started_at, $2, u.active_job_id, u.job_class, u.queue_name,
	u.serialized_params, coalesce(d.scheduled_at, u.scheduled_at), d.ended_at, d.error, d.error_event,
	CASE WHEN d.backtrace IS NULL THEN NULL ELSE string_to_array(d.backtrace, E'\n') END,
	$1, d.ended_at - d.started_at
FROM upd u JOIN d ON d.id = u.id
RETURNING active_job_id`

// Complete writes every completion in one statement for jobs still locked by
// processID, and returns how many it wrote. Fewer than len(cs) means some
// jobs were no longer this process's to finish.
func Complete(ctx context.Context, db DBTX, processID uuid.UUID, now time.Time,
	cs []Completion) (int, error) {
	n := len(cs)
	// [16]byte, not uuid.UUID: pgx encodes a uuid.UUID through its
	// driver.Valuer, as text parsed back, about 20 allocations per id.
	ids := make([][16]byte, n)
	sched := make([]*time.Time, n)
	started := make([]time.Time, n)
	ended := make([]time.Time, n)
	finished := make([]bool, n)
	next := make([]*time.Time, n)
	errs := make([]*string, n)
	events := make([]*int16, n)
	counts := make([]bool, n)
	traces := make([]*string, n)
	for i, c := range cs {
		ids[i], started[i], ended[i] = c.ID, c.StartedAt, c.EndedAt
		if !c.ScheduledAt.IsZero() {
			sched[i] = &c.ScheduledAt
		}
		finished[i], next[i], errs[i], events[i] = c.Finished, c.NextAt, c.Error, c.Event
		counts[i] = c.CountExecution
		if len(c.Backtrace) > 0 {
			s := strings.Join(c.Backtrace, "\n")
			traces[i] = &s
		}
	}
	tag, err := db.Exec(ctx, completeSQL, processID, now,
		ids, sched, started, ended, finished, next, errs, events, counts, traces)
	if err != nil {
		return 0, fmt.Errorf("complete %d jobs: %w", n, err)
	}
	return int(tag.RowsAffected()), nil
}

// Release unlocks jobs that processID still holds, without finishing them,
// and records an interrupted execution for each. It returns how many it
// released.
func Release(ctx context.Context, db DBTX, processID uuid.UUID, now time.Time,
	ids []uuid.UUID) (int, error) {
	msg := "goodjob: interrupted: the process stopped before the job finished"
	event := EventInterrupted
	cs := make([]Completion, len(ids))
	for i, id := range ids {
		cs[i] = Completion{ID: id, StartedAt: now, EndedAt: now, Error: &msg, Event: &event}
	}
	n, err := Complete(ctx, db, processID, now, cs)
	if err != nil {
		return 0, fmt.Errorf("release %d jobs: %w", len(ids), err)
	}
	return n, nil
}
