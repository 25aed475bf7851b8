package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Modes of [Run].
const (
	ModeBacklog = "backlog"
	ModeStream  = "stream"
	ModeEnqueue = "enqueue"
	ModeLarge   = "large"
)

// Modes lists the modes [Run] knows.
var Modes = []string{ModeBacklog, ModeStream, ModeEnqueue, ModeLarge}

// Options configures [Run].
type Options struct {
	Mode       string
	Jobs       int           // backlog size (backlog, large, and the raw drain)
	Workers    int           // MaxThreads of the working Client
	Rate       int           // stream: jobs per second
	Duration   time.Duration // stream and enqueue: how long to run
	Goroutines int           // enqueue, and the raw clients: callers at once
	Batch      int           // enqueue: jobs per EnqueueMany
	Finished   int           // large: finished rows
	Future     int           // large: future rows
	CompareSQL bool          // also measure the raw SQL limit
	// Logger receives progress at Info. ClientLogger receives the
	// Clients' own logs. Default: both discarded.
	Logger, ClientLogger *slog.Logger
}

// Report is the outcome of [Run]. Only the parts the mode ran are set.
type Report struct {
	Mode       string    `json:"mode"`
	Started    time.Time `json:"started"`
	Server     string    `json:"server_version"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Scratch    string    `json:"scratch"` // the scratch database or schema

	Backlog *BacklogResult `json:"backlog,omitempty"`
	Stream  *StreamResult  `json:"stream,omitempty"`
	Enqueue *EnqueueResult `json:"enqueue,omitempty"`
	Large   *LargeResult   `json:"large,omitempty"`
	Raw     *RawResult     `json:"compare_sql,omitempty"`
	// EnqueueOfRaw and DrainOfRaw are the fraction of the raw limit that
	// single enqueues and the backlog drain reached, with --compare-sql.
	EnqueueOfRaw float64 `json:"enqueue_of_raw,omitempty"`
	DrainOfRaw   float64 `json:"drain_of_raw,omitempty"`
}

// Run runs o.Mode on pool, a pool on a scratch database with goodjob's
// tables, emptying the job tables before each part.
func Run(ctx context.Context, pool *pgxpool.Pool, o Options) (*Report, error) {
	r := &Report{Mode: o.Mode, Started: time.Now().UTC(), GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var err error
	if r.Server, err = jobsql.BenchServerVersion(ctx, pool); err != nil {
		return nil, err
	}
	logger := orDiscard(o.Logger)
	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return nil, err
	}
	logger.Info("running", slog.String("mode", o.Mode))
	if err := runMode(ctx, pool, o, r); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Mode, err)
	}
	if !o.CompareSQL {
		return r, nil
	}
	logger.Info("running the raw SQL limit", slog.Int("clients", o.Goroutines))
	raw, err := Raw(ctx, pool, RawParams{Clients: o.Goroutines, Duration: o.Duration,
		Jobs: o.Jobs})
	if err != nil {
		return nil, fmt.Errorf("compare SQL: %w", err)
	}
	r.Raw = &raw
	r.fractions()
	return r, nil
}

func runMode(ctx context.Context, pool *pgxpool.Pool, o Options, r *Report) error {
	backlog := BacklogParams{Jobs: o.Jobs, Workers: o.Workers, Logger: o.ClientLogger}
	switch o.Mode {
	case ModeBacklog:
		res, err := Backlog(ctx, pool, backlog)
		r.Backlog = &res
		return err
	case ModeStream:
		res, err := Stream(ctx, pool, StreamParams{Rate: o.Rate,
			Jobs: max(1, int(o.Duration.Seconds()*float64(o.Rate))), Workers: o.Workers,
			Logger: o.ClientLogger})
		r.Stream = &res
		return err
	case ModeEnqueue:
		res, err := Enqueue(ctx, pool, EnqueueParams{Goroutines: o.Goroutines,
			Duration: o.Duration, Batch: o.Batch, Logger: o.ClientLogger})
		r.Enqueue = &res
		return err
	case ModeLarge:
		res, err := Large(ctx, pool, LargeParams{Finished: o.Finished, Future: o.Future,
			Backlog: backlog})
		r.Large = &res
		return err
	}
	return fmt.Errorf("unknown mode %q, want one of %v", o.Mode, Modes)
}

// fractions sets the share of the raw limit each library figure reached.
func (r *Report) fractions() {
	if r.Raw == nil {
		return
	}
	if r.Enqueue != nil && r.Raw.Insert.JobsPerSec > 0 {
		r.EnqueueOfRaw = r.Enqueue.Single.JobsPerSec / r.Raw.Insert.JobsPerSec
	}
	drain := r.Backlog
	if r.Large != nil {
		drain = &r.Large.Empty
	}
	if drain != nil && r.Raw.ClaimFinish.JobsPerSec > 0 {
		r.DrainOfRaw = drain.JobsPerSec / r.Raw.ClaimFinish.JobsPerSec
	}
}

// Reset empties the job tables and vacuums good_jobs. It is for scratch
// databases only.
func Reset(ctx context.Context, pool *pgxpool.Pool) error {
	return jobsql.BenchReset(ctx, pool)
}
