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
)

// EnqueueParams configures the enqueue measurement.
type EnqueueParams struct {
	Goroutines int           // callers of Enqueue at once
	Duration   time.Duration // how long each of the two parts runs
	Batch      int           // jobs per EnqueueMany call
	// Logger receives the Client's logs. Default: discarded.
	Logger *slog.Logger
}

// EnqueueResult is the enqueue throughput, one job per call and in batches.
type EnqueueResult struct {
	Goroutines int        `json:"goroutines"`
	Single     Throughput `json:"single"`
	Batch      int        `json:"batch"`
	Many       Throughput `json:"many"`
}

// Enqueue calls Enqueue from p.Goroutines goroutines for p.Duration, then
// EnqueueMany with p.Batch jobs from one goroutine for p.Duration (at least
// once). No Client works the jobs meanwhile.
func Enqueue(ctx context.Context, pool *pgxpool.Pool, p EnqueueParams) (EnqueueResult, error) {
	res := EnqueueResult{Goroutines: p.Goroutines, Batch: p.Batch}
	if p.Goroutines < 1 || p.Batch < 1 || p.Duration <= 0 {
		return res, fmt.Errorf("enqueue from %d goroutines, batches of %d for %s: "+
			"want 1 or more goroutines and jobs and a positive duration",
			p.Goroutines, p.Batch, p.Duration)
	}
	c, err := newClient(pool, 1, orDiscard(p.Logger))
	if err != nil {
		return res, err
	}
	if res.Single, err = enqueueSingle(ctx, c, p.Goroutines, p.Duration); err != nil {
		return res, err
	}
	res.Many, err = enqueueMany(ctx, c, p.Batch, p.Duration)
	return res, err
}

// enqueueSingle calls Enqueue in a loop from goroutines until d has passed.
func enqueueSingle(ctx context.Context, c *goodjob.Client, goroutines int,
	d time.Duration) (Throughput, error) {
	t, err := Concurrently(goroutines, d, func(n int) error {
		_, err := c.Enqueue(ctx, NoopArgs{N: n})
		return err
	})
	if err != nil {
		return Throughput{}, fmt.Errorf("enqueue one by one: %w", err)
	}
	return t, nil
}

// Concurrently calls insert from goroutines, each with its own count n,
// until d has passed or a call fails, and reports the calls that succeeded
// as jobs.
func Concurrently(goroutines int, d time.Duration, insert func(n int) error) (Throughput, error) {
	var jobs atomic.Int64
	errs := make([]error, goroutines)
	deadline := time.Now().Add(d)
	began := time.Now()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				if err := insert(n); err != nil {
					errs[g] = err
					return
				}
				jobs.Add(1)
			}
		})
	}
	wg.Wait()
	return throughput(int(jobs.Load()), time.Since(began)), errors.Join(errs...)
}

// enqueueMany calls EnqueueMany with batch jobs until d has passed.
func enqueueMany(ctx context.Context, c *goodjob.Client, batch int,
	d time.Duration) (Throughput, error) {
	params := make([]goodjob.EnqueueParams, batch)
	for i := range params {
		params[i] = goodjob.EnqueueParams{Args: NoopArgs{N: i}}
	}
	jobs := 0
	began := time.Now()
	for jobs == 0 || time.Since(began) < d {
		if _, err := c.EnqueueMany(ctx, params); err != nil {
			return Throughput{}, fmt.Errorf("enqueue in batches of %d: %w", batch, err)
		}
		jobs += batch
	}
	return throughput(jobs, time.Since(began)), nil
}
