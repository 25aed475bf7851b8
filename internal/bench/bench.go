// Package bench measures goodjob against a real PostgreSQL: how fast a
// backlog drains, how soon a job starts after its enqueue commits, how fast
// jobs are enqueued, how a table full of old and future rows changes that,
// and how close each figure comes to the raw limit of the SQL the design
// needs per job. The goodjob bench command and the root package's
// benchmarks both run these measurements.
//
// Every measurement runs no-op jobs ([NoopArgs]) on the pool it is given,
// which must hold goodjob's tables. Callers hand it a pool on a scratch
// database from [Create], never one holding users' jobs: the raw
// measurements and the large-table run write and empty the job tables
// directly.
package bench

import (
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
)

// NoopArgs is the job every measurement runs. Work returns at once, so the
// figures show the queue's own cost. N numbers the job within its run.
type NoopArgs struct {
	N int `json:"n"`
}

// Kind is the job_class of benchmark jobs.
func (NoopArgs) Kind() string { return "BenchNoop" }

// newClient returns a Client on pool with workers goroutines
// in one pool for every queue, and otherwise the default configuration.
func newClient(pool *pgxpool.Pool, workers int, logger *slog.Logger) (*goodjob.Client, error) {
	return goodjob.New(pool, goodjob.Config{MaxThreads: workers, Logger: logger})
}

// Throughput is jobs done over a span of wall time.
type Throughput struct {
	Jobs       int     `json:"jobs"`
	Seconds    float64 `json:"seconds"`
	JobsPerSec float64 `json:"jobs_per_sec"`
}

func throughput(jobs int, took time.Duration) Throughput {
	t := Throughput{Jobs: jobs, Seconds: took.Seconds()}
	if took > 0 {
		t.JobsPerSec = float64(jobs) / took.Seconds()
	}
	return t
}

// Latency is a distribution of delays, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Percentiles summarises ds, which it sorts in place. It returns zeros for
// an empty slice.
func Percentiles(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	at := func(p int) float64 {
		i := min(len(ds)-1, (len(ds)*p+99)/100-1)
		return ms(ds[max(i, 0)])
	}
	return Latency{P50: at(50), P90: at(90), P99: at(99), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
