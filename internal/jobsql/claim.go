package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ClaimParams selects and locks up to Limit runnable jobs for one pool.
type ClaimParams struct {
	ProcessID uuid.UUID
	Now       time.Time
	Limit     int
	Kinds     []string // job_class values this process can run
	Queues    []string // nil: every queue
	Exclude   bool     // Queues lists queues to skip instead of to take
	Ordered   bool     // take Queues in the listed order

	// PausedQueues and PausedLabels leave out jobs of paused queues and jobs
	// carrying a paused label. Paused kinds are left out of Kinds instead.
	PausedQueues []string
	PausedLabels []string

	// Gated lists kinds with perform-side concurrency limits. Their jobs
	// that have a concurrency key are claimed without performed_at: they
	// count as running only once Admit lets them start.
	Gated []string
}

// ClaimedJob is what a worker needs from a claimed row.
type ClaimedJob struct {
	ID              uuid.UUID
	ActiveJobID     uuid.UUID
	Kind            string
	Queue           string
	Priority        *int32
	Args            []byte
	ScheduledAt     time.Time
	CreatedAt       time.Time
	Labels          []string
	ExecutionsCount int32
	ConcurrencyKey  *string
	// Executions is serialized_params.executions: failed attempts so far.
	Executions int32
	// TraceContext is serialized_params.goodjob_trace_context as JSON, nil
	// when the job was enqueued without one.
	TraceContext []byte
	// BatchID is the batch the job belongs to; BatchCallbackID the batch
	// whose callback it is. Both are nil for most jobs.
	BatchID         *uuid.UUID
	BatchCallbackID *uuid.UUID
	// CronKey and CronAt are the cron entry and tick that enqueued the
	// job; both are nil for a job not enqueued by cron.
	CronKey *string
	CronAt  *time.Time
}

// claimSQL picks candidates through the partial candidate index
// (priority, scheduled_at, id WHERE finished_at IS NULL AND locked_by_id IS
// NULL) and locks them in the same statement. SKIP LOCKED lets many pools
// and processes claim at once without waiting on each other, and no
// advisory lock is held, so it works behind PgBouncer in transaction mode.
// Keyed jobs of gated kinds ($7) are locked without performed_at; with no
// gated kinds the CASE always takes performed_at = $1.
const claimSQL = `
WITH candidates AS (
	SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL AND scheduled_at <= $1
		AND job_class = ANY($2::text[])
		AND NOT coalesce(queue_name = ANY($5::text[]), false)
		AND NOT coalesce(labels && $6::text[], false)
		%s
	ORDER BY %s priority ASC NULLS LAST, scheduled_at, id
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE good_jobs g SET
	locked_by_id = $4, locked_at = $1, lock_type = 1,
	performed_at = CASE WHEN g.concurrency_key IS NOT NULL AND g.job_class = ANY($7::text[])
		THEN NULL ELSE $1 END,
	executions_count = coalesce(g.executions_count, 0) + 1, updated_at = $1
FROM candidates c WHERE g.id = c.id%s
RETURNING g.id, coalesce(g.active_job_id, g.id), g.job_class, coalesce(g.queue_name, ''),
	g.priority, g.serialized_params->'arguments'->0, g.scheduled_at,
	g.created_at, g.labels, g.executions_count, g.concurrency_key,
	coalesce((g.serialized_params->>'executions')::int, 0),
	g.serialized_params->'goodjob_trace_context', g.batch_id, g.batch_callback_id,
	g.cron_key, g.cron_at`

// asyncCommit makes the claim's commit not wait for its WAL flush. If the
// server crashes before the flush, the claim is lost and the job runs again:
// at-least-once holds, and the claim stops costing a disk flush per batch.
const asyncCommit = `
	AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'`

var (
	claimAnySQL     = fmt.Sprintf(claimSQL, "", "", asyncCommit)
	claimIncludeSQL = fmt.Sprintf(claimSQL, "AND queue_name = ANY($8::text[])", "", asyncCommit)
	claimExcludeSQL = fmt.Sprintf(claimSQL,
		"AND (queue_name IS NULL OR NOT queue_name = ANY($8::text[]))", "", asyncCommit)
	claimOrderedSQL = fmt.Sprintf(claimSQL, "AND queue_name = ANY($8::text[])",
		"array_position($8::text[], queue_name),", asyncCommit)
)

// Claim locks up to p.Limit jobs for p.ProcessID and returns them in claim
// order: priority, then scheduled time, then id.
func Claim(ctx context.Context, db DBTX, p ClaimParams) ([]ClaimedJob, error) {
	query, args := claimStatement(p)
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer rows.Close()
	jobs := make([]ClaimedJob, 0, p.Limit)
	for rows.Next() {
		var j ClaimedJob
		if err := scanClaimed(rows, &j); err != nil {
			return nil, fmt.Errorf("claim jobs: scan: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	sortClaimed(jobs, p)
	return jobs, nil
}

// scanClaimed reads one row of claimSQL's RETURNING list into j.
func scanClaimed(row pgx.Row, j *ClaimedJob) error {
	// Scanning into the bytes of a uuid.UUID skips its sql.Scanner, which
	// would go through the text form.
	return row.Scan((*[16]byte)(&j.ID), (*[16]byte)(&j.ActiveJobID), &j.Kind, &j.Queue,
		&j.Priority, &j.Args, &j.ScheduledAt, &j.CreatedAt, &j.Labels, &j.ExecutionsCount,
		&j.ConcurrencyKey, &j.Executions, &j.TraceContext, &j.BatchID, &j.BatchCallbackID,
		&j.CronKey, &j.CronAt)
}

// claimStatement picks the claim statement for p's queue selection and
// returns it with its arguments.
func claimStatement(p ClaimParams) (string, []any) {
	args := []any{p.Now, p.Kinds, p.Limit, p.ProcessID, p.PausedQueues, p.PausedLabels,
		p.Gated}
	switch {
	case p.Queues == nil:
		return claimAnySQL, args
	case p.Exclude:
		return claimExcludeSQL, append(args, p.Queues)
	case p.Ordered:
		return claimOrderedSQL, append(args, p.Queues)
	default:
		return claimIncludeSQL, append(args, p.Queues)
	}
}

// UpcomingParams asks for the next scheduled times of one pool's queues.
type UpcomingParams struct {
	Now, Until time.Time
	Limit      int
	Kinds      []string
	Queues     []string
	Exclude    bool
}

const upcomingSQL = `
SELECT DISTINCT scheduled_at FROM good_jobs
WHERE finished_at IS NULL AND locked_by_id IS NULL
	AND scheduled_at > $1 AND scheduled_at <= $2 AND job_class = ANY($3::text[])
	AND ($4::text[] IS NULL OR (queue_name = ANY($4::text[])) <> $5::bool)
ORDER BY scheduled_at LIMIT $6`

// Upcoming returns the distinct scheduled times of waiting jobs between Now
// and Until, earliest first, so a pool can wake for them without polling.
func Upcoming(ctx context.Context, db DBTX, p UpcomingParams) ([]time.Time, error) {
	rows, err := db.Query(ctx, upcomingSQL,
		p.Now, p.Until, p.Kinds, p.Queues, p.Exclude, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list upcoming jobs: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list upcoming jobs: scan: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list upcoming jobs: %w", err)
	}
	return out, nil
}
