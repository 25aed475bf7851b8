package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// LargeParams configures the large-table measurement.
type LargeParams struct {
	Finished int // finished rows written before the second drain
	Future   int // rows scheduled an hour ahead, written with them
	Backlog  BacklogParams
}

// LargeResult compares a drain on an empty table with one on a table full
// of finished and future rows.
type LargeResult struct {
	Finished    int           `json:"finished_rows"`
	Future      int           `json:"future_rows"`
	FillSeconds float64       `json:"fill_seconds"`
	Empty       BacklogResult `json:"empty"`
	Full        BacklogResult `json:"full"`
	// Ratio is Full's jobs/s over Empty's.
	Ratio float64 `json:"ratio"`
	// Plan is EXPLAIN of the claim statement on the full table with the
	// backlog waiting, and Scans its reads of good_jobs.
	Plan      string   `json:"plan"`
	Scans     []string `json:"scans"`
	IndexScan bool     `json:"index_scan"` // every read of good_jobs uses an index
}

// Large drains p.Backlog on an emptied table, then fills the table with
// p.Finished finished and p.Future future rows in two set-based
// statements, explains the claim statement and drains the same backlog
// again.
func Large(ctx context.Context, pool *pgxpool.Pool, p LargeParams) (LargeResult, error) {
	res := LargeResult{Finished: p.Finished, Future: p.Future}
	if p.Finished < 0 || p.Future < 0 {
		return res, fmt.Errorf("large table of %d finished and %d future rows: want 0 or more",
			p.Finished, p.Future)
	}
	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return res, err
	}
	var err error
	if res.Empty, err = Backlog(ctx, pool, p.Backlog); err != nil {
		return res, fmt.Errorf("drain on an empty table: %w", err)
	}

	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return res, err
	}
	began := time.Now()
	if err := fill(ctx, pool, p); err != nil {
		return res, err
	}
	res.FillSeconds = time.Since(began).Seconds()

	full := p.Backlog
	full.ReadyFunc = func(ctx context.Context) error {
		plan, err := jobsql.ExplainClaim(ctx, pool, jobsql.ClaimParams{
			ProcessID: uuid.New(), Now: time.Now().UTC(), Limit: max(p.Backlog.Workers, 1),
			Kinds: []string{NoopArgs{}.Kind()},
		})
		res.Plan, res.Scans, res.IndexScan = plan.Text, plan.Scans, plan.IndexOnly()
		return err
	}
	if res.Full, err = Backlog(ctx, pool, full); err != nil {
		return res, fmt.Errorf("drain on a large table: %w", err)
	}
	if res.Empty.JobsPerSec > 0 {
		res.Ratio = res.Full.JobsPerSec / res.Empty.JobsPerSec
	}
	return res, nil
}

// fill writes the finished and future rows, with serialized_params like a
// real job's.
func fill(ctx context.Context, pool *pgxpool.Pool, p LargeParams) error {
	params, err := sampleParams(ctx, pool)
	if err != nil {
		return err
	}
	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, part := range []struct {
		rows  jobsql.BenchRows
		count int
	}{{jobsql.BenchFinished, p.Finished}, {jobsql.BenchFuture, p.Future}} {
		err := jobsql.BenchFill(ctx, pool, jobsql.BenchFillParams{Rows: part.rows,
			Kind: NoopArgs{}.Kind(), Queue: "default", Count: part.count, Params: params, Now: now})
		if err != nil {
			return err
		}
	}
	return nil
}
