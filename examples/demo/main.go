// Command demo shows goodjob end to end: an HTTP handler enqueues a job in
// the same transaction as its own write, and workers in the same process run
// it, retrying a failure. The code is in internal/demo, which "goodjob demo"
// runs too.
//
//	go run ./examples/demo          # runs a few requests, prints, exits
//	go run ./examples/demo -serve   # keeps serving; try curl -X POST
//
// It uses DATABASE_URL when set; otherwise it finds a server the way the
// tests do (a local PostgreSQL on 127.0.0.1:5432, or Docker) and creates a
// database named goodjob_demo there.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/goodjob-go/goodjob/internal/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to serve on")
	serve := flag.Bool("serve", false, "keep serving until interrupted")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := demo.Run(ctx, demo.Options{
		Addr: *addr, Serve: *serve, DatabaseURL: os.Getenv("DATABASE_URL"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
