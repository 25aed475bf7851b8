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
}

// ListProcesses returns every registered process, most recently started
// first.
func ListProcesses(ctx context.Context, db DBTX) ([]ProcessRow, error) {
	rows, err := db.Query(ctx, `SELECT id, created_at, updated_at, coalesce(state, '{}')
		FROM good_job_processes ORDER BY created_at DESC, id`)
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
