// Command worker is a process that only works jobs, GoodJob's external
// mode. It takes GoodJob's start flags and variables:
//
//	DATABASE_URL=postgres://... go run ./examples/split/worker \
//	    --queues 'reports:2;*' --probe-port 7001
//
// SIGINT or SIGTERM stops it gracefully. examples/split/web enqueues the
// jobs it works.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/examples/split/jobs"
)

func main() {
	err := run(context.Background())
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, goodjob.ErrInvalidFlags):
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("open database (set DATABASE_URL): %w", err)
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return err
	}
	client, err := goodjob.New(pool, goodjob.Config{Logger: logger})
	if err != nil {
		return err
	}
	if err := goodjob.Register(client, jobs.RenderReport(logger)); err != nil {
		return err
	}
	return goodjob.RunWorker(ctx, client, os.Args)
}
