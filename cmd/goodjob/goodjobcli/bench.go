package goodjobcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/bench"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

// Defaults of the bench command.
const (
	benchJobsDefault       = 100_000
	benchWorkersDefault    = 100
	benchRateDefault       = 1000
	benchDurationDefault   = 10 * time.Second
	benchGoroutinesDefault = 8
	benchFinishedDefault   = 1_000_000
	benchFutureDefault     = 100_000
	// benchDropTimeout bounds dropping the scratch database, even after an
	// interrupt.
	benchDropTimeout = 30 * time.Second
)

func init() {
	register(&Command{
		Name: "bench",
		Args: "[--mode backlog|stream|enqueue|large] [--json] [--compare-sql] [flags]",
		Summary: "Measure goodjob on this server with no-op jobs.\n" +
			"backlog: enqueue --jobs with EnqueueMany, then time a Client with --workers\n" +
			"draining them. stream: enqueue --rate jobs/s for --duration from another\n" +
			"Client and report the latency from commit to the start of Work. enqueue:\n" +
			"Enqueue from --goroutines for --duration, then EnqueueMany of --batch.\n" +
			"large: drain on an empty table, then on one holding --finished finished and\n" +
			"--future scheduled rows, with the claim statement's plan. --compare-sql also\n" +
			"runs the raw SQL each job needs from --goroutines connections and reports\n" +
			"the share of that limit goodjob reached. Everything runs in a scratch\n" +
			"database (or schema) named goodjob_bench_<random>, dropped at the end.",
		Flags: benchFlags,
	})
}

func benchFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	url := dbFlag(fs)
	asJSON := fs.Bool("json", "", false, "write JSON instead of a table")
	o := bench.Options{}
	fs.StringVar(&o.Mode, "mode", bench.ModeBacklog, "what to measure: backlog, stream, "+
		"enqueue or large")
	fs.IntVar(&o.Jobs, "jobs", benchJobsDefault, "jobs in the backlog")
	fs.IntVar(&o.Workers, "workers", benchWorkersDefault, "goroutines of the working Client")
	fs.IntVar(&o.Rate, "rate", benchRateDefault, "stream: jobs enqueued per second")
	fs.DurationVar(&o.Duration, "duration", benchDurationDefault,
		"stream and enqueue: how long to run")
	fs.IntVar(&o.Goroutines, "goroutines", benchGoroutinesDefault,
		"enqueue: goroutines calling Enqueue; --compare-sql: raw clients")
	fs.IntVar(&o.Batch, "batch", bench.BatchDefault, "enqueue: jobs per EnqueueMany")
	fs.IntVar(&o.Finished, "finished", benchFinishedDefault, "large: finished rows")
	fs.IntVar(&o.Future, "future", benchFutureDefault, "large: rows scheduled in the future")
	fs.BoolVar(&o.CompareSQL, "compare-sql", false, "also measure the raw SQL limit")
	return func(ctx context.Context, args []string) error {
		if err := checkBench(args, o); err != nil {
			return err
		}
		if *url == "" {
			return usagef("no database: set DATABASE_URL or pass --database-url")
		}
		o.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
		o.ClientLogger = slog.New(slog.NewTextHandler(env.Stderr,
			&slog.HandlerOptions{Level: slog.LevelWarn}))
		report, err := runBench(ctx, *url, o)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(report)
		}
		return report.WriteText(env.Stdout)
	}
}

// checkBench names the first bad argument.
func checkBench(args []string, o bench.Options) error {
	switch {
	case len(args) > 0:
		return usagef("unexpected arguments %q", args)
	case !slices.Contains(bench.Modes, o.Mode):
		return usagef("--mode is %q, want one of %v", o.Mode, bench.Modes)
	case o.Jobs < 1, o.Workers < 1, o.Rate < 1, o.Goroutines < 1, o.Batch < 1:
		return usagef("--jobs, --workers, --rate, --goroutines and --batch must be 1 or more")
	case o.Duration <= 0:
		return usagef("--duration is %s, want more than 0", o.Duration)
	case o.Finished < 0, o.Future < 0:
		return usagef("--finished and --future must be 0 or more")
	}
	return nil
}

// runBench makes the scratch database, migrates it, runs the measurement
// and drops the database, also when the run fails or is interrupted.
func runBench(ctx context.Context, url string, o bench.Options) (r *bench.Report, err error) {
	s, err := bench.Create(ctx, url, max(16, o.Goroutines+8))
	if err != nil {
		return nil, err
	}
	o.Logger.Info("created scratch database", slog.String("name", s.Name),
		slog.Bool("schema", s.Schema))
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), benchDropTimeout)
		defer cancel()
		if derr := s.Drop(dropCtx); derr != nil {
			err = errors.Join(err, fmt.Errorf("%w; drop %s by hand", derr, s.Name))
		}
	}()
	if err := goodjob.Migrate(ctx, s.Pool); err != nil {
		return nil, fmt.Errorf("migrate scratch database %s: %w", s.Name, err)
	}
	r, err = bench.Run(ctx, s.Pool, o)
	if r != nil {
		r.Scratch = s.Name
	}
	return r, err
}
