package goodjob_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/bench"
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
	params := noopParams(1000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.EnqueueMany(context.Background(), params); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(params))/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkDrain works a backlog of 50,000 no-op jobs with a Client of 100
// goroutines, from Start until Stop has written every completion.
func BenchmarkDrain(b *testing.B) {
	const backlog = 50_000
	var total time.Duration
	for range b.N {
		db := testdb.New(b)
		res, err := bench.Backlog(context.Background(), db.Pool,
			bench.BacklogParams{Jobs: backlog, Workers: 100, Logger: testLogger(b)})
		require.NoError(b, err)
		require.Equal(b, backlog, res.Finished)
		total += time.Duration(res.Seconds * float64(time.Second))
	}
	b.ReportMetric(float64(b.N*backlog)/total.Seconds(), "jobs/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkStream enqueues b.N jobs one at a time at 1,000 per second from
// another Client and reports the time from commit to the start of Work.
func BenchmarkStream(b *testing.B) {
	db := testdb.New(b)
	res, err := bench.Stream(context.Background(), db.Pool,
		bench.StreamParams{Rate: 1000, Jobs: b.N, Workers: 100, Logger: testLogger(b)})
	require.NoError(b, err)
	require.Equal(b, b.N, res.Finished)
	b.ReportMetric(res.LatencyMs.P50, "p50-ms")
	b.ReportMetric(res.LatencyMs.P99, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
