package jobsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The report statements summarise finished work for the dashboard's
// performance and cleaner pages. Each reads one time window through an
// index on its time column, so its cost follows the rows in the window, not
// the size of the table.

// Grouping tells which grouping a report row belongs to.
type Grouping int16

// The groupings, as GROUPING(a, b) numbers them for GROUPING SETS ((a),
// (b), ()): a bit is set for each column the row is not grouped by.
const (
	GroupedByFirst  Grouping = 1 // kind, or error class
	GroupedBySecond Grouping = 2 // queue, or kind
	GroupedByNone   Grouping = 3 // the total
)

// PerformanceRow is the executions of one kind, one queue or all of them.
// Durations are in microseconds.
type PerformanceRow struct {
	Grouping          Grouping
	Kind, Queue       string
	Executions        int64
	Succeeded, Failed int64
	AvgUS, P50US      int64
	P95US, MaxUS      int64
	AvgLatencyUS      int64
	// Oldest is the start of the oldest execution read, nil for none.
	Oldest *time.Time
}

// performanceSQL reads the newest $2 finished executions that started at or
// after $1, walking index_good_job_executions_on_created_at backwards, and
// aggregates them by kind, by queue and in total in one pass. Durations are
// seconds as float8 for percentile_cont, rounded to microseconds at the end.
// A NULL duration (GoodJob before 3.x did not record one) is counted but
// left out of the duration figures; a NULL scheduled_at is left out of the
// latency.
const performanceSQL = `
SELECT grouping(kind, queue)::int2, coalesce(kind, ''), coalesce(queue, ''),
	count(*), count(*) FILTER (WHERE NOT failed), count(*) FILTER (WHERE failed),
	coalesce(round(avg(secs) * 1e6), 0)::int8,
	coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) * 1e6), 0)::int8,
	coalesce(round(percentile_cont(0.95) WITHIN GROUP (ORDER BY secs) * 1e6), 0)::int8,
	coalesce(round(max(secs) * 1e6), 0)::int8,
	coalesce(round(avg(latency) * 1e6), 0)::int8,
	min(created_at)
FROM (
	SELECT coalesce(job_class, '') AS kind, coalesce(queue_name, '') AS queue,
		error IS NOT NULL AS failed, created_at,
		extract(epoch FROM duration)::float8 AS secs,
		extract(epoch FROM created_at - scheduled_at)::float8 AS latency
	FROM good_job_executions
	WHERE created_at >= $1 AND finished_at IS NOT NULL
	ORDER BY created_at DESC
	LIMIT $2
) AS e
GROUP BY GROUPING SETS ((kind), (queue), ())
ORDER BY 1, 2, 3`

// Performance aggregates the finished executions that started at or after
// since (UTC), reading at most limit of them, the newest first. The total
// row comes first, then one row per kind, then one per queue, each sorted
// by name. With no execution in the window there is only the total row.
func Performance(ctx context.Context, db DBTX, since time.Time,
	limit int) ([]PerformanceRow, error) {
	rows, err := db.Query(ctx, performanceSQL, since, limit)
	if err != nil {
		return nil, fmt.Errorf("aggregate executions since %s: %w", since, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PerformanceRow])
	if err != nil {
		return nil, fmt.Errorf("aggregate executions since %s: %w", since, err)
	}
	// ORDER BY 1 puts the kinds (1) before the queues (2) and the total (3);
	// callers want the total first.
	if n := len(out); n > 0 && out[n-1].Grouping == GroupedByNone {
		out = append(out[n-1:], out[:n-1]...)
	}
	return out, nil
}

// DiscardedRow counts the discarded jobs of one error class or one kind in
// each window, shortest window first.
type DiscardedRow struct {
	Grouping   Grouping
	ErrorClass string
	Kind       string
	Counts     []int64
}

// discardedSQL is filled in with one count per window, the parameter of the
// widest window's bound and the output column of its count.
const discardedSQL = `
SELECT grouping(class, kind)::int2, coalesce(class, ''), coalesce(kind, ''), %s
FROM (
	SELECT split_part(error, ': ', 1) AS class, coalesce(job_class, '') AS kind, finished_at
	FROM good_jobs
	WHERE finished_at IS NOT NULL AND error IS NOT NULL AND finished_at >= $%d
) AS d
GROUP BY GROUPING SETS ((class), (kind))
ORDER BY 1, %d DESC, 2, 3`

// DiscardedCounts counts the discarded jobs (finished_at and error set) that
// finished at or after each of since, by error class (the error up to its
// first ": ", as GoodJob writes "Class: message") and by kind. since is
// sorted newest first, in UTC; the oldest bound limits the rows read, through
// index_good_jobs_on_discarded, to the jobs discarded in the widest window.
// Rows come by error class, then by kind, each most discarded first in the
// widest window, then by name.
func DiscardedCounts(ctx context.Context, db DBTX, since []time.Time) ([]DiscardedRow, error) {
	if len(since) == 0 {
		return nil, errors.New("count discarded jobs: no window")
	}
	args := make([]any, len(since))
	counts := make([]string, len(since))
	for i, t := range since {
		args[i] = t
		counts[i] = fmt.Sprintf("count(*) FILTER (WHERE finished_at >= $%d)", i+1)
	}
	n := len(since)
	sql := fmt.Sprintf(discardedSQL, strings.Join(counts, ", "), n, 3+n)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("count discarded jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DiscardedRow, error) {
		r := DiscardedRow{Counts: make([]int64, len(since))}
		dest := []any{&r.Grouping, &r.ErrorClass, &r.Kind}
		for i := range r.Counts {
			dest = append(dest, &r.Counts[i])
		}
		return r, row.Scan(dest...)
	})
	if err != nil {
		return nil, fmt.Errorf("count discarded jobs: %w", err)
	}
	return out, nil
}
