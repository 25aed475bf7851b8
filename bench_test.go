package goodjob_test

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// BenchmarkEnqueue inserts one job per call from 4 goroutines.
func BenchmarkEnqueue(b *testing.B) {
	db := testdb.New(b)
	c := newClient(b, db.Pool, goodjob.Config{})
	b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Enqueue(context.Background(), noopArgs{N: 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkEnqueueMany inserts batches of 1,000 jobs.
func BenchmarkEnqueueMany(b *testing.B) {
	db := testdb.New(b)
	c := newClient(b, db.Pool, goodjob.Config{})
	params := make([]goodjob.EnqueueParams, 1000)
	for i := range params {
		params[i] = goodjob.EnqueueParams{Args: noopArgs{N: i}}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.EnqueueMany(context.Background(), params); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(params))/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkDrain works a backlog of 50,000 no-op jobs with one pool of 50
// goroutines, from Start until Stop has written every completion.
func BenchmarkDrain(b *testing.B) {
	const backlog = 50_000
	var total time.Duration
	for range b.N {
		total += drainOnce(b, backlog)
	}
	b.ReportMetric(float64(b.N*backlog)/total.Seconds(), "jobs/s")
	b.ReportMetric(0, "ns/op")
}

func drainOnce(b *testing.B, backlog int) time.Duration {
	b.StopTimer()
	db := testdb.New(b)
	ctx := context.Background()
	c := newClient(b, db.Pool, goodjob.Config{Queues: "*:50"})
	var done atomic.Int64
	all := make(chan struct{})
	require.NoError(b, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			if done.Add(1) == int64(backlog) {
				close(all)
			}
			return nil
		})))
	params := make([]goodjob.EnqueueParams, 1000)
	for i := range params {
		params[i] = goodjob.EnqueueParams{Args: noopArgs{N: i}}
	}
	for range backlog / len(params) {
		_, err := c.EnqueueMany(ctx, params)
		require.NoError(b, err)
	}
	_, err := db.Pool.Exec(ctx, "VACUUM ANALYZE good_jobs")
	require.NoError(b, err)
	b.StartTimer()

	began := time.Now()
	require.NoError(b, c.Start(ctx))
	<-all
	require.NoError(b, c.Stop(ctx))
	took := time.Since(began)

	var unfinished int
	require.NoError(b, db.Pool.QueryRow(ctx,
		"SELECT count(*) FROM good_jobs WHERE finished_at IS NULL").Scan(&unfinished))
	require.Zero(b, unfinished)
	return took
}

// BenchmarkStream enqueues jobs one at a time at a steady rate from another
// Client and reports the time from commit to the start of Work.
func BenchmarkStream(b *testing.B) {
	const rate = 500 // jobs per second
	db := testdb.New(b)
	ctx := context.Background()
	worker := newClient(b, db.Pool, goodjob.Config{Queues: "*:20", PollInterval: time.Minute})
	committed := make([]atomic.Int64, b.N) // UnixNano before each Enqueue
	latency := make([]time.Duration, b.N)
	var seen atomic.Int64
	all := make(chan struct{})
	require.NoError(b, goodjob.Register(worker, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			latency[j.Args.N] = time.Duration(time.Now().UnixNano() - committed[j.Args.N].Load())
			if seen.Add(1) == int64(b.N) {
				close(all)
			}
			return nil
		})))
	start(b, worker)
	producer := newClient(b, db.Pool, goodjob.Config{})

	b.ResetTimer()
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	for i := range b.N {
		<-tick.C
		// The job may start before Enqueue returns: record the time just
		// before the call, which is no later than the commit.
		committed[i].Store(time.Now().UnixNano())
		if _, err := producer.Enqueue(ctx, noopArgs{N: i}); err != nil {
			b.Fatal(err)
		}
	}
	<-all
	b.StopTimer()
	slices.Sort(latency)
	b.ReportMetric(ms(latency[len(latency)/2]), "p50-ms")
	b.ReportMetric(ms(latency[len(latency)*99/100]), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
