package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProcessRow is one good_job_processes row.
type ProcessRow struct {
	ID        uuid.UUID
	CreatedAt time.Time
	UpdatedAt time.Time
	State     []byte
	// Gone reports that the next recovery sweep would reap the process, by
	// the rules of RecoverParams.
	Gone bool
}

// ListProcesses returns every registered process, most recently started
// first, judged by p's StaleBefore, ForeignStaleBefore and Scheduler.
func ListProcesses(ctx context.Context, db DBTX, p RecoverParams) ([]ProcessRow, error) {
	rows, err := db.Query(ctx, `WITH `+heldLocksCTE+`
		SELECT p.id, p.created_at, p.updated_at, coalesce(p.state, '{}'),
			coalesce(`+processGone("$1", "$2", "$3")+`, false)
		FROM good_job_processes p ORDER BY p.created_at DESC, p.id`,
		p.StaleBefore, p.ForeignStaleBefore, p.Scheduler)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ProcessRow])
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	return out, nil
}

// MinuteCount is the number of jobs that finished in one minute.
type MinuteCount struct {
	Minute    time.Time
	Succeeded int64
	Discarded int64
}

// FinishedPerMinute counts jobs finished since since, by minute, through the
// index on finished_at, so it reads only the window's rows however large the
// table is.
func FinishedPerMinute(ctx context.Context, db DBTX, since time.Time) ([]MinuteCount, error) {
	rows, err := db.Query(ctx, `SELECT date_trunc('minute', finished_at) AS minute,
		count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL)
		FROM good_jobs WHERE finished_at IS NOT NULL AND finished_at >= $1
		GROUP BY minute ORDER BY minute`, since)
	if err != nil {
		return nil, fmt.Errorf("count finished jobs per minute: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MinuteCount])
	if err != nil {
		return nil, fmt.Errorf("count finished jobs per minute: %w", err)
	}
	return out, nil
}

// CountJobs counts the jobs matching f, reading at most limit of them, so a
// count over a huge selection stays cheap: a result equal to limit means
// "limit or more".
func CountJobs(ctx context.Context, db DBTX, f Filter, limit int) (int64, error) {
	q := &query{args: []any{f.Now}}
	where := f.where(q)
	sql := "SELECT count(*) FROM (SELECT 1 FROM good_jobs WHERE " + where +
		" LIMIT " + q.arg(limit) + ") AS matching"
	var n int64
	if err := db.QueryRow(ctx, sql, q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	return n, nil
}

// overviewSQL counts what an operator watches without reading finished
// jobs that succeeded: unfinished rows (few, through the partial indexes on
// finished_at IS NULL) and discarded rows (through the index on discarded
// jobs). Succeeded jobs are counted by EstimateRows instead.
const overviewSQL = `
SELECT coalesce(queue_name, ''), state, count(*), 0::bigint,
	min(due) FILTER (WHERE state = 'queued')
FROM (SELECT queue_name, ` + dueAt + ` AS due, ` + stateSQL + ` AS state
	FROM good_jobs WHERE finished_at IS NULL) s
GROUP BY 1, 2
UNION ALL
SELECT coalesce(queue_name, ''), 'discarded', count(*),
	count(*) FILTER (WHERE finished_at >= $2), NULL
FROM good_jobs WHERE finished_at IS NOT NULL AND error IS NOT NULL
GROUP BY 1
ORDER BY 1, 2`

// OverviewStats is Stats without the succeeded rows; see overviewSQL.
func OverviewStats(ctx context.Context, db DBTX, now, since time.Time) ([]StatsRow, error) {
	rows, err := db.Query(ctx, overviewSQL, now, since)
	if err != nil {
		return nil, fmt.Errorf("count unfinished jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[StatsRow])
	if err != nil {
		return nil, fmt.Errorf("count unfinished jobs: %w", err)
	}
	return out, nil
}

// FinishedSince counts the jobs that succeeded since the given time,
// reading at most limit index entries of the finished_at index.
func FinishedSince(ctx context.Context, db DBTX, since time.Time, limit int) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM good_jobs
		WHERE finished_at >= $1 AND error IS NULL LIMIT $2) AS s`, since, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count jobs finished since %s: %w", since, err)
	}
	return n, nil
}

// EstimateRows returns the planner's estimate of good_jobs' row count, or -1
// when the table was never analyzed.
func EstimateRows(ctx context.Context, db DBTX) (int64, error) {
	var n float64
	err := db.QueryRow(ctx, `SELECT reltuples FROM pg_class
		WHERE oid = to_regclass('good_jobs')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("estimate good_jobs rows: %w", err)
	}
	return int64(n), nil
}

// KindRow counts one job class's unfinished jobs by state.
type KindRow struct {
	Kind                                string
	Queued, Scheduled, Retried, Running int64
	// OldestDue is the earliest due time among queued jobs, nil when none
	// is queued.
	OldestDue *time.Time
}

// kindsSQL reads only unfinished rows, which the partial indexes on
// finished_at IS NULL cover, so its cost follows the backlog and not the
// millions of finished jobs a table may keep.
const kindsSQL = `
SELECT coalesce(job_class, ''),
	count(*) FILTER (WHERE state = 'queued'),
	count(*) FILTER (WHERE state = 'scheduled'),
	count(*) FILTER (WHERE state = 'retried'),
	count(*) FILTER (WHERE state = 'running'),
	min(due) FILTER (WHERE state = 'queued')
FROM (SELECT job_class, ` + dueAt + ` AS due, ` + stateSQL + ` AS state
	FROM good_jobs WHERE finished_at IS NULL) s
GROUP BY 1 ORDER BY 1`

// KindStats counts unfinished jobs by job class and state at now.
func KindStats(ctx context.Context, db DBTX, now time.Time) ([]KindRow, error) {
	rows, err := db.Query(ctx, kindsSQL, now)
	if err != nil {
		return nil, fmt.Errorf("count unfinished jobs by kind: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[KindRow])
	if err != nil {
		return nil, fmt.Errorf("count unfinished jobs by kind: %w", err)
	}
	return out, nil
}
