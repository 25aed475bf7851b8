package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// StreamProducers is how many goroutines take turns enqueueing a stream.
const StreamProducers = 8

// StreamParams configures a steady stream of single enqueues.
type StreamParams struct {
	Rate    int // jobs per second
	Jobs    int // jobs in the stream
	Workers int // the working Client's MaxThreads
	// Logger receives the Clients' logs. Default: discarded.
	Logger *slog.Logger
}

// StreamResult is the pickup latency of a stream of jobs.
type StreamResult struct {
	Rate     int     `json:"rate"`
	Jobs     int     `json:"jobs"`
	Workers  int     `json:"workers"`
	Seconds  float64 `json:"seconds"`  // from the first enqueue to the last start
	Finished int     `json:"finished"` // read back from good_jobs after Stop
	// AchievedRate is the rate the producers kept: Jobs over the time from
	// the first enqueue to the return of the last. Below Rate, the machine
	// could not enqueue that fast and the latencies are for a lower rate.
	AchievedRate float64 `json:"achieved_rate"`
	// LatencyMs is the time from just before Enqueue, which commits the
	// job, until its Work begins. Measuring from before the call makes
	// each figure an upper bound by the length of the insert.
	LatencyMs Latency `json:"latency_ms"`
}

// Stream starts a Client with p.Workers goroutines, then enqueues p.Jobs
// jobs one at a time at p.Rate per second from a second Client, so each
// wake-up travels through PostgreSQL as it would between processes.
func Stream(ctx context.Context, pool *pgxpool.Pool, p StreamParams) (StreamResult, error) {
	res := StreamResult{Rate: p.Rate, Jobs: p.Jobs, Workers: p.Workers}
	if p.Rate < 1 || p.Jobs < 1 || p.Workers < 1 {
		return res, fmt.Errorf("stream of %d jobs at %d/s with %d workers: want 1 or more of each",
			p.Jobs, p.Rate, p.Workers)
	}
	logger := orDiscard(p.Logger)
	worker, err := newClient(pool, p.Workers, logger)
	if err != nil {
		return res, err
	}
	producer, err := newClient(pool, 1, logger)
	if err != nil {
		return res, err
	}

	committed := make([]atomic.Int64, p.Jobs) // UnixNano just before each Enqueue
	latency := make([]time.Duration, p.Jobs)
	var done atomic.Int64
	all := make(chan struct{})
	err = goodjob.Register(worker, goodjob.WorkFunc[NoopArgs](
		func(_ context.Context, j *goodjob.Job[NoopArgs]) error {
			n := j.Args.N
			latency[n] = time.Duration(time.Now().UnixNano() - committed[n].Load())
			if done.Add(1) == int64(p.Jobs) {
				close(all)
			}
			return nil
		}))
	if err != nil {
		return res, err
	}
	if err := worker.Start(ctx); err != nil {
		return res, fmt.Errorf("start client: %w", err)
	}

	since := time.Now().UTC()
	began := time.Now()
	enqErr := Pace(ctx, p.Jobs, p.Rate, StreamProducers, func(i int) error {
		committed[i].Store(time.Now().UnixNano())
		_, err := producer.Enqueue(ctx, NoopArgs{N: i})
		return err
	})
	res.AchievedRate = float64(p.Jobs) / time.Since(began).Seconds()
	if enqErr == nil {
		select {
		case <-all:
		case <-ctx.Done():
		}
	}
	res.Seconds = time.Since(began).Seconds()
	stopErr := worker.Stop(context.WithoutCancel(ctx))
	if err := errors.Join(enqErr, ctx.Err(), stopErr); err != nil {
		return res, fmt.Errorf("stream of %d jobs: %w", p.Jobs, err)
	}
	res.LatencyMs = Percentiles(latency)
	_, res.Finished, err = jobsql.BenchCount(ctx, pool, NoopArgs{}.Kind(), since)
	return res, err
}

// Pace calls fn(i) for i from 0 to jobs-1, each at its slot, i/rate after
// the start, from producers goroutines taking turns, so that one slow call
// does not hold the rest of the schedule back. A producer that falls behind
// calls at once until it is back on schedule. Pace stops at the first error
// of each producer and returns them joined.
func Pace(ctx context.Context, jobs, rate, producers int, fn func(i int) error) error {
	interval := time.Second / time.Duration(rate)
	began := time.Now()
	errs := make([]error, producers)
	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			timer := time.NewTimer(0)
			defer timer.Stop()
			for i := g; i < jobs; i += producers {
				timer.Reset(time.Until(began.Add(time.Duration(i) * interval)))
				select {
				case <-ctx.Done():
					errs[g] = ctx.Err()
					return
				case <-timer.C:
				}
				if err := fn(i); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
