package goodjob

import (
	"context"
	"fmt"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Defaults of [PerformanceParams].
const (
	// PerformanceWindowDefault is the window read when Since is zero.
	PerformanceWindowDefault = 24 * time.Hour
	// PerformanceLimitDefault is how many executions are read at most when
	// Limit is zero.
	PerformanceLimitDefault = 1_000_000
)

// PerformanceParams selects the executions [Client.Performance] reads.
type PerformanceParams struct {
	// Since is the start of the window: executions that started at or
	// after it are read. Default: PerformanceWindowDefault before now.
	Since time.Time

	// Limit caps how many executions are read, the newest first, so that a
	// wide window on a busy queue costs a bounded amount of work. Default
	// PerformanceLimitDefault.
	Limit int
}

// PerformanceStats sums up the finished executions of one kind, one queue,
// or all of them.
type PerformanceStats struct {
	// Name is the kind or the queue; empty in PerformanceReport.Total.
	Name string
	// Executions counts the finished attempts; Succeeded those without an
	// error, Failed those with one (retried or discarded).
	Executions int64
	Succeeded  int64
	Failed     int64

	// The run time of an attempt: its mean, median, 95th percentile
	// (interpolated, as PostgreSQL's percentile_cont) and maximum.
	// Attempts without a recorded duration are left out.
	AvgDuration time.Duration
	P50Duration time.Duration
	P95Duration time.Duration
	MaxDuration time.Duration

	// AvgLatency is the mean wait from a job's scheduled time to the start
	// of the attempt.
	AvgLatency time.Duration
}

// PerformanceReport is what [Client.Performance] returns.
type PerformanceReport struct {
	// Since is the start of the window read.
	Since time.Time
	// Truncated is set when the window held Limit executions or more and
	// only the newest Limit were read; Oldest then tells where they begin.
	Truncated bool
	// Oldest is the start of the oldest execution read; zero for none.
	Oldest time.Time

	// Total covers every execution read.
	Total PerformanceStats
	// Kinds and Queues hold one entry per kind (job_class) and per queue
	// (queue_name), sorted by name.
	Kinds  []PerformanceStats
	Queues []PerformanceStats
}

// Performance sums up, by kind and by queue, the attempts in
// good_job_executions that started in a window and have finished: how many
// succeeded and failed, how long they ran and how long they waited. Jobs of
// GoodJob for Rails sharing the database are included.
//
// It reads the window through the index on good_job_executions.created_at
// (migration 0009), at most p.Limit rows.
func (c *Client) Performance(ctx context.Context, p PerformanceParams) (*PerformanceReport,
	error) {
	if p.Limit < 0 {
		return nil, fmt.Errorf("goodjob: performance: %w: limit is %d, want 0 or more",
			ErrInvalidFilter, p.Limit)
	}
	if p.Limit == 0 {
		p.Limit = PerformanceLimitDefault
	}
	if p.Since.IsZero() {
		p.Since = c.now().Add(-PerformanceWindowDefault)
	}
	rows, err := jobsql.Performance(ctx, c.db, p.Since.UTC(), p.Limit)
	if err != nil {
		return nil, fmt.Errorf("goodjob: performance: %w", err)
	}

	r := &PerformanceReport{Since: p.Since}
	for _, row := range rows {
		switch row.Grouping {
		case jobsql.GroupedByNone:
			r.Total = performanceStats("", row)
			if row.Oldest != nil {
				r.Oldest = *row.Oldest
			}
			r.Truncated = row.Executions >= int64(p.Limit)
		case jobsql.GroupedByFirst:
			r.Kinds = append(r.Kinds, performanceStats(row.Kind, row))
		case jobsql.GroupedBySecond:
			r.Queues = append(r.Queues, performanceStats(row.Queue, row))
		}
	}
	return r, nil
}

func performanceStats(name string, r jobsql.PerformanceRow) PerformanceStats {
	return PerformanceStats{
		Name: name, Executions: r.Executions, Succeeded: r.Succeeded, Failed: r.Failed,
		AvgDuration: time.Duration(r.AvgUS) * time.Microsecond,
		P50Duration: time.Duration(r.P50US) * time.Microsecond,
		P95Duration: time.Duration(r.P95US) * time.Microsecond,
		MaxDuration: time.Duration(r.MaxUS) * time.Microsecond,
		AvgLatency:  time.Duration(r.AvgLatencyUS) * time.Microsecond,
	}
}
