package jobsql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The admin statements below list, count and change jobs for operators.
// Every change is one statement that locks its rows with FOR UPDATE and
// skips rows a worker holds (locked_by_id IS NOT NULL). A worker claims
// rows with FOR UPDATE SKIP LOCKED and finishes them fenced by
// locked_by_id, so an admin change and a worker never both win a row.

// Job states, as GoodJob derives them. The predicates are GoodJob's status
// method written as SQL, evaluated in its order (finished first, then
// future, then performed), so every row has exactly one state. $1 is always
// the current time in UTC.
const (
	StateScheduled = "scheduled"
	StateRetried   = "retried"
	StateQueued    = "queued"
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateDiscarded = "discarded"
)

const (
	dueAt      = "coalesce(scheduled_at, created_at)"
	paramsExec = "coalesce((serialized_params->>'executions')::int, 0)"
)

// statePredicates holds one WHERE predicate per state.
var statePredicates = map[string]string{
	StateSucceeded: "(finished_at IS NOT NULL AND error IS NULL)",
	StateDiscarded: "(finished_at IS NOT NULL AND error IS NOT NULL)",
	StateScheduled: "(finished_at IS NULL AND " + dueAt + " > $1 AND " + paramsExec + " < 2)",
	StateRetried:   "(finished_at IS NULL AND " + dueAt + " > $1 AND " + paramsExec + " > 1)",
	StateRunning:   "(finished_at IS NULL AND " + dueAt + " <= $1 AND performed_at IS NOT NULL)",
	StateQueued:    "(finished_at IS NULL AND " + dueAt + " <= $1 AND performed_at IS NULL)",
}

// stateSQL is the state of a row as a text expression.
const stateSQL = `CASE
	WHEN finished_at IS NOT NULL THEN CASE WHEN error IS NULL THEN 'succeeded' ELSE 'discarded' END
	WHEN ` + dueAt + ` > $1 THEN CASE WHEN ` + paramsExec + ` > 1 THEN 'retried' ELSE 'scheduled' END
	WHEN performed_at IS NOT NULL THEN 'running'
	ELSE 'queued' END`

// ValidState reports whether s names a state.
func ValidState(s string) bool {
	_, ok := statePredicates[s]
	return ok
}

// Filter selects jobs for listing and for bulk changes. Zero fields match
// every job.
type Filter struct {
	Now            time.Time // UTC; decides scheduled against queued
	IDs            []uuid.UUID
	States         []string
	Queue          string
	Kind           string
	Label          string
	Search         string // substring of the args or the error, any case
	FinishedBefore time.Time
	BatchID        uuid.UUID // jobs of this batch, its callbacks left out; uuid.Nil: any
	CronKey        string    // jobs a cron entry enqueued, retries included
	CallbacksOf    uuid.UUID // the callback jobs of this batch; uuid.Nil: any
}

// query collects a statement's arguments; $1 is always Now.
type query struct {
	args []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// where writes f as a list of AND-ed predicates.
func (f Filter) where(q *query) string {
	// $1 is always the current time. Naming it here gives it a type in
	// statements where no state predicate uses it.
	conds := []string{"$1::timestamp IS NOT NULL"}
	if len(f.IDs) > 0 {
		conds = append(conds, "id = ANY("+q.arg(f.IDs)+"::uuid[])")
	}
	if len(f.States) > 0 {
		ors := make([]string, 0, len(f.States))
		for _, s := range f.States {
			ors = append(ors, statePredicates[s])
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Queue != "" {
		conds = append(conds, "queue_name = "+q.arg(f.Queue))
	}
	if f.Kind != "" {
		conds = append(conds, "job_class = "+q.arg(f.Kind))
	}
	if f.Label != "" {
		conds = append(conds, "labels @> ARRAY["+q.arg(f.Label)+"::text]")
	}
	if f.Search != "" {
		p := q.arg("%" + escapeLike(f.Search) + "%")
		conds = append(conds, "((serialized_params->'arguments')::text ILIKE "+p+
			" OR error ILIKE "+p+")")
	}
	if !f.FinishedBefore.IsZero() {
		conds = append(conds, "finished_at < "+q.arg(f.FinishedBefore))
	}
	if f.BatchID != uuid.Nil {
		conds = append(conds, "batch_id = "+q.arg(f.BatchID)+"::uuid")
	}
	if f.CallbacksOf != uuid.Nil {
		conds = append(conds, "batch_callback_id = "+q.arg(f.CallbacksOf)+"::uuid")
	}
	if f.CronKey != "" {
		conds = append(conds, "cron_key = "+q.arg(f.CronKey))
	}
	return strings.Join(conds, " AND ")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AdminJob is one good_jobs row with its derived state.
type AdminJob struct {
	ID, ActiveJobID                   uuid.UUID
	Kind, Queue, State, Error         string
	Priority, ExecutionsCount         int32
	Args                              []byte
	Labels                            []string
	ScheduledAt, CreatedAt, UpdatedAt time.Time
	PerformedAt, FinishedAt, LockedAt *time.Time
	LockedByID                        *uuid.UUID
	ErrorEvent                        *int16
	CronKey, ConcurrencyKey           *string
	CronAt                            *time.Time
	UniqueKey                         *string
	BatchID, BatchCallbackID          *uuid.UUID
}

const adminJobColumns = `id, coalesce(active_job_id, id), coalesce(job_class, ''),
	coalesce(queue_name, ''), ` + stateSQL + `, coalesce(error, ''), coalesce(priority, 0),
	coalesce(executions_count, 0), serialized_params->'arguments'->0, labels,
	coalesce(scheduled_at, created_at), created_at, updated_at, performed_at, finished_at,
	locked_at, locked_by_id, error_event, cron_key, cron_at, unique_key, batch_id,
	batch_callback_id, concurrency_key`

func scanAdminJob(row pgx.Row) (AdminJob, error) {
	var j AdminJob
	err := row.Scan(&j.ID, &j.ActiveJobID, &j.Kind, &j.Queue, &j.State, &j.Error, &j.Priority,
		&j.ExecutionsCount, &j.Args, &j.Labels, &j.ScheduledAt, &j.CreatedAt, &j.UpdatedAt,
		&j.PerformedAt, &j.FinishedAt, &j.LockedAt, &j.LockedByID, &j.ErrorEvent, &j.CronKey,
		&j.CronAt, &j.UniqueKey, &j.BatchID, &j.BatchCallbackID, &j.ConcurrencyKey)
	return j, err
}

// Cursor is the position after the last row of a page: jobs and batches
// are listed by id, newest first. goodjob's ids are UUIDv7, which begin
// with their creation time, so the primary key's index serves the list in
// creation order and no index on created_at has to be kept up to date on
// every write.
type Cursor struct {
	ID uuid.UUID
}

// ListJobs returns up to limit jobs matching f that come after the cursor
// (all from the newest when after is nil).
func ListJobs(ctx context.Context, db DBTX, f Filter, after *Cursor,
	limit int) ([]AdminJob, error) {
	q := &query{args: []any{f.Now}}
	where := f.where(q)
	if after != nil {
		where += " AND id < " + q.arg(after.ID) + "::uuid"
	}
	sql := "SELECT " + adminJobColumns + " FROM good_jobs WHERE " + where +
		" ORDER BY id DESC LIMIT " + q.arg(limit)
	rows, err := db.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []AdminJob
	for rows.Next() {
		j, err := scanAdminJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: scan: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// ErrNoJob is returned by GetJob for an id with no row.
var ErrNoJob = errors.New("no such job")

// GetJob returns one job, or ErrNoJob.
func GetJob(ctx context.Context, db DBTX, now time.Time, id uuid.UUID) (AdminJob, error) {
	row := db.QueryRow(ctx, "SELECT "+adminJobColumns+" FROM good_jobs WHERE id = $2", now, id)
	j, err := scanAdminJob(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, ErrNoJob
	}
	if err != nil {
		return j, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

// Execution is one good_job_executions row.
type Execution struct {
	ID                     uuid.UUID
	Kind, Queue, Error     string
	CreatedAt, ScheduledAt time.Time
	FinishedAt             *time.Time
	ErrorEvent             *int16
	Backtrace              []string
	ProcessID              *uuid.UUID
	Duration               time.Duration // zero when not recorded
}

// ListExecutions returns a job's attempts, oldest first.
func ListExecutions(ctx context.Context, db DBTX, activeJobID uuid.UUID) ([]Execution, error) {
	rows, err := db.Query(ctx, `
SELECT id, coalesce(job_class, ''), coalesce(queue_name, ''), coalesce(error, ''),
	created_at, coalesce(scheduled_at, created_at), finished_at, error_event,
	error_backtrace, process_id, duration
FROM good_job_executions WHERE active_job_id = $1 ORDER BY created_at, id`, activeJobID)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	var out []Execution
	for rows.Next() {
		var e Execution
		var d pgtype.Interval
		if err := rows.Scan(&e.ID, &e.Kind, &e.Queue, &e.Error, &e.CreatedAt, &e.ScheduledAt,
			&e.FinishedAt, &e.ErrorEvent, &e.Backtrace, &e.ProcessID, &d); err != nil {
			return nil, fmt.Errorf("list executions: scan: %w", err)
		}
		if d.Valid {
			days := time.Duration(d.Days) + 30*time.Duration(d.Months)
			e.Duration = time.Duration(d.Microseconds)*time.Microsecond + days*24*time.Hour
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return out, nil
}

// StatsRow counts the jobs of one queue in one state.
type StatsRow struct {
	Queue, State string
	Count        int64
	// FinishedSince counts the jobs that finished at or after the time
	// given to Stats.
	FinishedSince int64
	// OldestDue is the earliest scheduled_at among queued jobs.
	OldestDue *time.Time
}

// statsSQL reads the whole table once. It is a sequential scan: counting
// finished jobs needs every row, as GoodJob's own dashboard does.
const statsSQL = `
SELECT coalesce(queue_name, ''), state, count(*),
	count(*) FILTER (WHERE finished_at >= $2),
	min(due) FILTER (WHERE state = 'queued')
FROM (SELECT queue_name, finished_at, ` + dueAt + ` AS due, ` + stateSQL + ` AS state
	FROM good_jobs) s
GROUP BY 1, 2 ORDER BY 1, 2`

// Stats counts jobs by queue and state at now, and how many of them
// finished since the given time.
func Stats(ctx context.Context, db DBTX, now, since time.Time) ([]StatsRow, error) {
	rows, err := db.Query(ctx, statsSQL, now, since)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []StatsRow
	for rows.Next() {
		var r StatsRow
		if err := rows.Scan(&r.Queue, &r.State, &r.Count, &r.FinishedSince,
			&r.OldestDue); err != nil {
			return nil, fmt.Errorf("count jobs: scan: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}
