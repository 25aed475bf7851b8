// Command cron runs two recurring jobs: a nightly cleanup of expired
// sessions at 02:00 and a check for orders stuck in processing every 15
// minutes. Run as many copies as you like; each tick is enqueued once.
//
//	DATABASE_URL=postgres://localhost/app go run ./examples/cron
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
)

// CleanupArgs removes expired sessions.
type CleanupArgs struct{}

// Kind names the job in good_jobs.job_class.
func (CleanupArgs) Kind() string { return "CleanupJob" }

// StaleOrderCheckArgs reports orders stuck in processing longer than Age.
type StaleOrderCheckArgs struct {
	Age time.Duration `json:"age"`
}

// Kind names the job in good_jobs.job_class.
func (StaleOrderCheckArgs) Kind() string { return "StaleOrderCheckJob" }

// schema is the application's own tables, made here so the example runs on
// an empty database.
const schema = `
CREATE TABLE IF NOT EXISTS sessions (id bigserial PRIMARY KEY, expires_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
	id bigserial PRIMARY KEY,
	status text NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
)`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cron:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("open pool: %w", err)
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		return fmt.Errorf("create example tables: %w", err)
	}

	client, err := goodjob.New(pool, goodjob.Config{
		Logger:          logger,
		CronGracePeriod: 30 * time.Minute, // a deploy at 02:00 still cleans up
		Cron: map[string]goodjob.CronEntry{
			"cleanup": {
				Cron:        "0 2 * * *",
				Args:        CleanupArgs{},
				Description: "Delete expired sessions",
				Options:     []goodjob.EnqueueOption{goodjob.Queue("low")},
			},
			"stale_orders": {
				Cron:        "*/15 * * * *",
				Args:        StaleOrderCheckArgs{Age: 30 * time.Minute},
				Description: "Alert on orders stuck in processing",
				Options:     []goodjob.EnqueueOption{goodjob.Priority(-10)},
			},
		},
	})
	if err != nil {
		return err
	}
	if err := register(client, pool, logger); err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return client.Stop(context.Background())
}

func register(client *goodjob.Client, pool *pgxpool.Pool, logger *slog.Logger) error {
	cleanup := func(ctx context.Context, job *goodjob.Job[CleanupArgs]) error {
		tag, err := pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now()`)
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		logger.Info("expired sessions deleted", slog.Int64("rows", tag.RowsAffected()))
		return nil
	}
	stale := func(ctx context.Context, job *goodjob.Job[StaleOrderCheckArgs]) error {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM orders
			WHERE status = 'processing' AND updated_at < now() - $1::interval`,
			job.Args.Age).Scan(&n)
		if err != nil {
			return fmt.Errorf("count stale orders: %w", err)
		}
		if n > 0 {
			logger.Warn("orders stuck in processing", slog.Int("orders", n),
				slog.Duration("older_than", job.Args.Age))
		}
		return nil
	}
	if err := goodjob.Register(client, goodjob.WorkFunc[CleanupArgs](cleanup)); err != nil {
		return err
	}
	return goodjob.Register(client, goodjob.WorkFunc[StaleOrderCheckArgs](stale))
}
