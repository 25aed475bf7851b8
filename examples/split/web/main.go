// Command web is a process that only enqueues: its Client is never
// started, so it runs no workers. examples/split/worker works the jobs.
//
//	DATABASE_URL=postgres://... go run ./examples/split/web --addr :8080
//	curl -X POST -d name=q3 -d seconds=2 localhost:8080/reports
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/examples/split/jobs"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	if err := run(context.Background(), *addr); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string) error {
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("open database (set DATABASE_URL): %w", err)
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return err
	}
	client, err := goodjob.New(pool, goodjob.Config{})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reports", func(w http.ResponseWriter, r *http.Request) {
		secs, _ := strconv.ParseFloat(r.FormValue("seconds"), 64)
		job, err := client.Enqueue(r.Context(), jobs.Report{Name: r.FormValue("name"),
			Seconds: secs}, goodjob.Queue("reports"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "job %s enqueued\n", job.ID)
	})
	slog.Info("serving", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}
