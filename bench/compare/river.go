package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/goodjob-go/goodjob/internal/bench"
)

// riverNoop is River's no-op job, the twin of bench.NoopArgs.
type riverNoop struct {
	N int `json:"n"`
}

func (riverNoop) Kind() string { return "bench_noop" }

// riverWorker calls fn with each job's number and returns at once.
type riverWorker struct {
	river.WorkerDefaults[riverNoop]
	fn func(n int)
}

func (w *riverWorker) Work(_ context.Context, j *river.Job[riverNoop]) error {
	w.fn(j.Args.N)
	return nil
}

// riverFetch is River's tuned fetch configuration: a fetch cooldown of 1ms
// instead of 100ms, and a short poll interval.
type riverFetch struct {
	Cooldown, Poll time.Duration
}

// migrateRiver applies River's migrations to pool's database.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// newRiver returns a River client on pool. With workers > 0 it works the
// default queue with that many workers and fn as the worker; otherwise it
// only inserts.
func newRiver(pool *pgxpool.Pool, workers int, f riverFetch,
	fn func(int)) (*river.Client[pgx.Tx], error) {
	cfg := &river.Config{
		Logger: slog.New(slog.DiscardHandler),
	}
	if workers > 0 {
		ws := river.NewWorkers()
		river.AddWorker(ws, &riverWorker{fn: fn})
		cfg.Workers = ws
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}
		cfg.FetchCooldown, cfg.FetchPollInterval = f.Cooldown, f.Poll
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("new river client: %w", err)
	}
	return c, nil
}

// riverReset empties River's job table between measurements.
func riverReset(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, "TRUNCATE river_job"); err != nil {
		return fmt.Errorf("empty river_job: %w", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE river_job"); err != nil {
		return fmt.Errorf("vacuum river_job: %w", err)
	}
	return nil
}

// riverBacklog inserts jobs with InsertMany in batches, vacuums, then times
// a River client from Start until Stop returned after the last job.
func riverBacklog(ctx context.Context, pool *pgxpool.Pool, jobs, workers int,
	f riverFetch) (bench.BacklogResult, error) {
	res := bench.BacklogResult{Workers: workers}
	if err := riverReset(ctx, pool); err != nil {
		return res, err
	}
	var done atomic.Int64
	all := make(chan struct{})
	c, err := newRiver(pool, workers, f, func(int) {
		if done.Add(1) == int64(jobs) {
			close(all)
		}
	})
	if err != nil {
		return res, err
	}
	for i := 0; i < jobs; i += bench.BatchDefault {
		params := make([]river.InsertManyParams, 0, bench.BatchDefault)
		for n := i; n < min(jobs, i+bench.BatchDefault); n++ {
			params = append(params, river.InsertManyParams{Args: riverNoop{N: n}})
		}
		if _, err := c.InsertMany(ctx, params); err != nil {
			return res, fmt.Errorf("river insert backlog: %w", err)
		}
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE river_job"); err != nil {
		return res, fmt.Errorf("vacuum river_job: %w", err)
	}

	began := time.Now()
	if err := c.Start(ctx); err != nil {
		return res, fmt.Errorf("start river: %w", err)
	}
	select {
	case <-all:
	case <-ctx.Done():
	}
	stopErr := c.Stop(context.WithoutCancel(ctx))
	res.Throughput = throughput(jobs, time.Since(began))
	if err := errors.Join(ctx.Err(), stopErr); err != nil {
		return res, fmt.Errorf("river drain: %w", err)
	}
	err = pool.QueryRow(ctx,
		"SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&res.Finished)
	return res, err
}

// riverStream works jobs with one River client while another inserts them
// one at a time at rate. It returns the latency from just before Insert to
// the start of Work, and the insert rate kept, as bench.Stream does.
func riverStream(ctx context.Context, pool *pgxpool.Pool, jobs, rate, workers int,
	f riverFetch) (bench.StreamResult, error) {
	res := bench.StreamResult{Rate: rate, Jobs: jobs, Workers: workers}
	if err := riverReset(ctx, pool); err != nil {
		return res, err
	}
	committed := make([]atomic.Int64, jobs)
	latency := make([]time.Duration, jobs)
	var done atomic.Int64
	all := make(chan struct{})
	worker, err := newRiver(pool, workers, f, func(n int) {
		latency[n] = time.Duration(time.Now().UnixNano() - committed[n].Load())
		if done.Add(1) == int64(jobs) {
			close(all)
		}
	})
	if err != nil {
		return res, err
	}
	producer, err := newRiver(pool, 0, f, nil)
	if err != nil {
		return res, err
	}
	if err := worker.Start(ctx); err != nil {
		return res, fmt.Errorf("start river: %w", err)
	}
	began := time.Now()
	insErr := bench.Pace(ctx, jobs, rate, bench.StreamProducers, func(i int) error {
		committed[i].Store(time.Now().UnixNano())
		_, err := producer.Insert(ctx, riverNoop{N: i}, nil)
		return err
	})
	res.AchievedRate = float64(jobs) / time.Since(began).Seconds()
	if insErr == nil {
		select {
		case <-all:
		case <-ctx.Done():
		}
	}
	stopErr := worker.Stop(context.WithoutCancel(ctx))
	if err := errors.Join(insErr, ctx.Err(), stopErr); err != nil {
		return res, fmt.Errorf("river stream: %w", err)
	}
	res.LatencyMs = bench.Percentiles(latency)
	return res, nil
}

// riverInsert measures Insert from goroutines, then InsertMany and
// InsertManyFast of batch jobs, each for d.
func riverInsert(ctx context.Context, pool *pgxpool.Pool, goroutines, batch int,
	d time.Duration) (single, many, fast bench.Throughput, err error) {
	if err = riverReset(ctx, pool); err != nil {
		return
	}
	c, err := newRiver(pool, 0, riverFetch{}, nil)
	if err != nil {
		return
	}
	single, err = bench.Concurrently(goroutines, d, func(n int) error {
		_, err := c.Insert(ctx, riverNoop{N: n}, nil)
		return err
	})
	if err != nil {
		return
	}

	params := make([]river.InsertManyParams, batch)
	for i := range params {
		params[i] = river.InsertManyParams{Args: riverNoop{N: i}}
	}
	if many, err = repeat(d, batch, func() error {
		_, err := c.InsertMany(ctx, params)
		return err
	}); err != nil {
		return
	}
	fast, err = repeat(d, batch, func() error {
		_, err := c.InsertManyFast(ctx, params)
		return err
	})
	return
}

// repeat calls fn, which handles batch jobs, until d has passed.
func repeat(d time.Duration, batch int, fn func() error) (bench.Throughput, error) {
	jobs := 0
	began := time.Now()
	for jobs == 0 || time.Since(began) < d {
		if err := fn(); err != nil {
			return bench.Throughput{}, err
		}
		jobs += batch
	}
	return throughput(jobs, time.Since(began)), nil
}

func throughput(jobs int, took time.Duration) bench.Throughput {
	return bench.Throughput{Jobs: jobs, Seconds: took.Seconds(),
		JobsPerSec: float64(jobs) / took.Seconds()}
}
