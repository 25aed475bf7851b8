// Command worker is the process the fault tests start, kill and stop. It
// works FaultJob jobs on the database named by -url until it gets SIGTERM
// or SIGINT, or is killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/faulttest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "", "database URL")
	queues := flag.String("queues", "*:10", "queue string")
	lease := flag.Duration("lease", 2*time.Second, "process lease")
	heartbeat := flag.Duration("heartbeat", 250*time.Millisecond, "heartbeat interval")
	app := flag.String("app", "goodjob-faulttest", "application_name of every connection")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := pgxpool.ParseConfig(*url)
	if err != nil {
		return fmt.Errorf("parse url: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = *app
	cfg.MaxConns = 30
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open pool: %w", err)
	}
	defer pool.Close()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := goodjob.New(pool, goodjob.Config{
		Queues: *queues, ProcessLease: *lease, HeartbeatInterval: *heartbeat,
		PollInterval: time.Second, Logger: logger,
	})
	if err != nil {
		return err
	}
	if err := faulttest.Register(c, pool, os.Getpid()); err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	fmt.Println(faulttest.ReadyLine, c.ProcessID())
	<-ctx.Done()

	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Stop(stopCtx)
}
