// Command compare measures goodjob and River on the same PostgreSQL in one
// run: a backlog drain of no-op jobs, batch inserts, single inserts from
// several goroutines, and pickup latency at a steady rate. It prints a
// table. Each library works in a scratch database of its own, dropped at
// the end.
//
// It is a module of its own so that the goodjob module never depends on
// River:
//
//	cd bench/compare && DATABASE_URL=postgres://... go run .
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/bench"
)

// options are the command-line flags.
type options struct {
	url           string
	jobs          int
	workers       []int
	riverWorkers  []int
	riverFetch    riverFetch
	rate          int
	streamWorkers int
	duration      time.Duration
	goroutines    int
	rounds        int
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.StringVar(&o.url, "database-url", os.Getenv("DATABASE_URL"),
		"PostgreSQL server to create the scratch databases on (default $DATABASE_URL)")
	fs.IntVar(&o.jobs, "jobs", 100_000, "jobs in each backlog")
	workers := fs.String("workers", "100,500,2000",
		"goodjob: MaxThreads settings to try, everything else default")
	riverWorkers := fs.String("river-workers", "100,500,2000",
		"River: MaxWorkers settings to try")
	fs.DurationVar(&o.riverFetch.Cooldown, "river-fetch-cooldown", time.Millisecond,
		"River: FetchCooldown")
	fs.DurationVar(&o.riverFetch.Poll, "river-fetch-poll", time.Millisecond,
		"River: FetchPollInterval")
	fs.IntVar(&o.rate, "rate", 1000, "stream: jobs inserted per second")
	fs.IntVar(&o.streamWorkers, "stream-workers", 100, "stream: workers of either library")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "stream and insert: how long")
	fs.IntVar(&o.goroutines, "goroutines", 8, "single inserts: goroutines at once")
	fs.IntVar(&o.rounds, "rounds", 2, "drains of each setting, and insert runs; the best one counts")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.workers, err = counts("--workers", *workers); err != nil {
		return o, err
	}
	if o.riverWorkers, err = counts("--river-workers", *riverWorkers); err != nil {
		return o, err
	}
	switch {
	case o.url == "":
		return o, errors.New("no database: set DATABASE_URL or pass --database-url")
	case o.jobs < 1 || o.rate < 1 || o.streamWorkers < 1 ||
		o.goroutines < 1 || o.rounds < 1:
		return o, errors.New("--jobs, --rate, --stream-workers, --goroutines and --rounds " +
			"must be 1 or more")
	case o.duration <= 0:
		return o, errors.New("--duration must be more than 0")
	}
	return o, nil
}

// counts reads a comma-separated list of positive numbers.
func counts(flag, list string) ([]int, error) {
	var ns []int
	for _, w := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, w)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// scratch makes a scratch database and migrates it with migrate.
func scratch(ctx context.Context, url string,
	migrate func(context.Context, *bench.Scratch) error) (*bench.Scratch, error) {
	s, err := bench.Create(ctx, url, 32)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, s); err != nil {
		return nil, errors.Join(err, s.Drop(context.WithoutCancel(ctx)))
	}
	return s, nil
}

func run(ctx context.Context, o options) (err error) {
	gj, err := scratch(ctx, o.url, func(ctx context.Context, s *bench.Scratch) error {
		return goodjob.Migrate(ctx, s.Pool)
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, gj.Drop(context.WithoutCancel(ctx))) }()
	rv, err := scratch(ctx, o.url, func(ctx context.Context, s *bench.Scratch) error {
		return migrateRiver(ctx, s.Pool)
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rv.Drop(context.WithoutCancel(ctx))) }()

	t := &table{started: time.Now().UTC()}
	if err := drains(ctx, o, gj, rv, t); err != nil {
		return err
	}
	if err := inserts(ctx, o, gj, rv, t); err != nil {
		return err
	}
	if err := streams(ctx, o, gj, rv, t); err != nil {
		return err
	}
	return t.write(os.Stdout, o)
}

// drains runs every drain setting o.rounds times, alternating the
// libraries so that a disturbance on the machine hits both, and keeps the
// best run of each setting.
func drains(ctx context.Context, o options, gj, rv *bench.Scratch, t *table) error {
	t.goodjob = make([]bench.BacklogResult, len(o.workers))
	t.river = make([]bench.BacklogResult, len(o.riverWorkers))
	for round := range o.rounds {
		for i, w := range o.workers {
			progress("drain round %d: goodjob, MaxThreads %d", round+1, w)
			if err := bench.Reset(ctx, gj.Pool); err != nil {
				return err
			}
			res, err := bench.Backlog(ctx, gj.Pool, bench.BacklogParams{Jobs: o.jobs,
				Workers: w, Logger: warnings()})
			if err != nil {
				return err
			}
			t.goodjob[i] = best(t.goodjob[i], res)
		}
		for i, w := range o.riverWorkers {
			progress("drain round %d: River, MaxWorkers %d", round+1, w)
			res, err := riverBacklog(ctx, rv.Pool, o.jobs, w, o.riverFetch)
			if err != nil {
				return err
			}
			t.river[i] = best(t.river[i], res)
		}
	}
	return nil
}

func best(a, b bench.BacklogResult) bench.BacklogResult {
	if b.JobsPerSec > a.JobsPerSec {
		return b
	}
	return a
}

// inserts measures single and batch inserts o.rounds times, alternating
// the libraries as drains does, and keeps the best figure of each.
func inserts(ctx context.Context, o options, gj, rv *bench.Scratch, t *table) error {
	for round := range o.rounds {
		progress("inserts round %d: goodjob", round+1)
		if err := bench.Reset(ctx, gj.Pool); err != nil {
			return err
		}
		res, err := bench.Enqueue(ctx, gj.Pool, bench.EnqueueParams{
			Goroutines: o.goroutines, Duration: o.duration, Batch: bench.BatchDefault,
			Logger: warnings()})
		if err != nil {
			return err
		}
		t.enqueue.Goroutines, t.enqueue.Batch = res.Goroutines, res.Batch
		t.enqueue.Single = faster(t.enqueue.Single, res.Single)
		t.enqueue.Many = faster(t.enqueue.Many, res.Many)

		progress("inserts round %d: River", round+1)
		single, many, fast, err := riverInsert(ctx, rv.Pool, o.goroutines,
			bench.BatchDefault, o.duration)
		if err != nil {
			return err
		}
		t.riverSingle = faster(t.riverSingle, single)
		t.riverMany = faster(t.riverMany, many)
		t.riverFast = faster(t.riverFast, fast)
	}
	return nil
}

func faster(a, b bench.Throughput) bench.Throughput {
	if b.JobsPerSec > a.JobsPerSec {
		return b
	}
	return a
}

func streams(ctx context.Context, o options, gj, rv *bench.Scratch, t *table) error {
	jobs := max(1, int(o.duration.Seconds()*float64(o.rate)))
	progress("stream at %d/s: goodjob", o.rate)
	if err := bench.Reset(ctx, gj.Pool); err != nil {
		return err
	}
	res, err := bench.Stream(ctx, gj.Pool, bench.StreamParams{Rate: o.rate, Jobs: jobs,
		Workers: o.streamWorkers, Logger: warnings()})
	if err != nil {
		return err
	}
	t.stream = res
	progress("stream at %d/s: River", o.rate)
	t.riverStream, err = riverStream(ctx, rv.Pool, jobs, o.rate, o.streamWorkers, o.riverFetch)
	return err
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// warnings logs the goodjob Clients' warnings and errors to stderr.
func warnings() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
