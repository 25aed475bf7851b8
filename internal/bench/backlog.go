package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// BatchDefault is the EnqueueMany batch size the measurements use.
const BatchDefault = 1000

// BacklogParams configures one backlog drain.
type BacklogParams struct {
	Jobs    int // jobs enqueued before the Client starts
	Workers int // the Client's MaxThreads
	// Logger receives the Client's logs. Default: discarded.
	Logger *slog.Logger
	// ReadyFunc, when set, runs after the backlog is enqueued and vacuumed
	// and before the Client starts, outside the timed part.
	ReadyFunc func(context.Context) error
}

// BacklogResult is one drain of a backlog.
type BacklogResult struct {
	Throughput
	Workers int `json:"workers"`
	// Finished counts the run's jobs that finished without an error, read
	// back from good_jobs after Stop: equal to Jobs when none was lost.
	Finished int `json:"finished"`
	// Process is this process's CPU and memory during the drain.
	Process ProcessUse `json:"process"`
}

// Backlog enqueues p.Jobs no-op jobs with EnqueueMany, vacuums good_jobs,
// then starts a Client with p.Workers goroutines and times it from Start
// until Stop has returned with every completion written.
func Backlog(ctx context.Context, pool *pgxpool.Pool, p BacklogParams) (BacklogResult, error) {
	res := BacklogResult{Workers: p.Workers}
	if p.Jobs < 1 || p.Workers < 1 {
		return res, fmt.Errorf("backlog of %d jobs with %d workers: want 1 or more of each",
			p.Jobs, p.Workers)
	}
	c, err := newClient(pool, p.Workers, orDiscard(p.Logger))
	if err != nil {
		return res, err
	}
	var done atomic.Int64
	all := make(chan struct{})
	err = goodjob.Register(c, goodjob.WorkFunc[NoopArgs](
		func(context.Context, *goodjob.Job[NoopArgs]) error {
			if done.Add(1) == int64(p.Jobs) {
				close(all)
			}
			return nil
		}))
	if err != nil {
		return res, err
	}
	since := time.Now().UTC()
	if err := enqueueBacklog(ctx, c, p.Jobs); err != nil {
		return res, err
	}
	if err := jobsql.BenchVacuum(ctx, pool); err != nil {
		return res, err
	}
	if p.ReadyFunc != nil {
		if err := p.ReadyFunc(ctx); err != nil {
			return res, err
		}
	}

	meter := startProcMeter()
	began := time.Now()
	if err := c.Start(ctx); err != nil {
		meter.finish(0)
		return res, fmt.Errorf("start client: %w", err)
	}
	select {
	case <-all:
	case <-ctx.Done():
	}
	stopErr := c.Stop(context.WithoutCancel(ctx))
	res.Throughput = throughput(p.Jobs, time.Since(began))
	res.Process = meter.finish(p.Jobs)
	if err := errors.Join(ctx.Err(), stopErr); err != nil {
		return res, fmt.Errorf("drain %d jobs: %w", p.Jobs, err)
	}
	_, res.Finished, err = jobsql.BenchCount(ctx, pool, NoopArgs{}.Kind(), since)
	return res, err
}

// enqueueBacklog enqueues n jobs numbered 0 to n-1 in batches.
func enqueueBacklog(ctx context.Context, c *goodjob.Client, n int) error {
	batch := make([]goodjob.EnqueueParams, 0, BatchDefault)
	for i := range n {
		batch = append(batch, goodjob.EnqueueParams{Args: NoopArgs{N: i}})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := c.EnqueueMany(ctx, batch); err != nil {
				return fmt.Errorf("enqueue backlog: %w", err)
			}
			batch = batch[:0]
		}
	}
	return nil
}

// orDiscard returns logger, or one that drops everything when it is nil.
func orDiscard(logger *slog.Logger) *slog.Logger {
	if logger != nil {
		return logger
	}
	return slog.New(slog.DiscardHandler)
}
