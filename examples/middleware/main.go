// Command middleware shows Middleware around Work: a client-wide one that
// logs each job's start and finish with its duration, and a per-kind one
// that loads a tenant from the job's args into the context.
//
// Run it against any database (the tables are created if missing):
//
//	DATABASE_URL=postgres://127.0.0.1:5432/postgres go run ./examples/middleware
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
)

// InvoiceArgs asks for one tenant's invoice to be sent.
type InvoiceArgs struct {
	Tenant  string `json:"tenant"`
	Invoice int    `json:"invoice"`
}

// Kind is the job's class.
func (InvoiceArgs) Kind() string { return "SendInvoiceJob" }

type tenantKey struct{}

// logJobs logs every job's start and finish, with its duration and error.
func logJobs(logger *slog.Logger) goodjob.Middleware {
	return func(ctx context.Context, job *goodjob.JobInfo, next func(context.Context) error) error {
		log := logger.With(slog.String("job_id", job.ID.String()), slog.String("kind", job.Kind),
			slog.String("queue", job.Queue), slog.Int("attempt", job.Attempt))
		log.Info("job started")
		begin := time.Now()
		err := next(ctx)
		log.Info("job finished", slog.Duration("duration", time.Since(begin)),
			slog.Any("error", err))
		return err
	}
}

// withTenant reads the tenant from the job's args and puts it in ctx.
func withTenant(ctx context.Context, job *goodjob.JobInfo, next func(context.Context) error) error {
	var args struct {
		Tenant string `json:"tenant"`
	}
	if err := json.Unmarshal(job.Args, &args); err != nil || args.Tenant == "" {
		return goodjob.Discard(errors.New("job has no tenant"))
	}
	return next(context.WithValue(ctx, tenantKey{}, args.Tenant))
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "middleware:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = "postgres://127.0.0.1:5432/postgres"
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("open pool: %w", err)
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stdout, nil))
	client, err := goodjob.New(pool, goodjob.Config{
		Middleware: []goodjob.Middleware{logJobs(logger)},
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	err = goodjob.Register(client, goodjob.WorkFunc[InvoiceArgs](
		func(ctx context.Context, job *goodjob.Job[InvoiceArgs]) error {
			defer close(done)
			logger.Info("sending invoice", slog.Any("tenant", ctx.Value(tenantKey{})),
				slog.Int("invoice", job.Args.Invoice))
			return nil
		}), goodjob.WithMiddleware(withTenant))
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	if _, err := client.Enqueue(ctx, InvoiceArgs{Tenant: "acme", Invoice: 42}); err != nil {
		return err
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return errors.New("the job did not run within 30s")
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return client.Stop(stopCtx)
}
