// Command progress shows a long job reporting its progress to a browser: a
// page starts a CSV import, and a progress bar follows it live through the
// dashboard's job status stream.
//
//	go run ./examples/progress        # then open the printed URL
//
// It finds its database as examples/demo does.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

//go:embed index.html
var indexHTML []byte

// CSVImport imports Rows rows, slowly enough to watch.
type CSVImport struct {
	File string `json:"file"`
	Rows int    `json:"rows"`
}

// Kind names the job in good_jobs.job_class.
func (CSVImport) Kind() string { return "CSVImport" }

// importRows stands in for real work: it "imports" one row every 20 ms and
// reports progress every 50 rows.
func importRows(ctx context.Context, job *goodjob.Job[CSVImport]) error {
	for i := 1; i <= job.Args.Rows; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if i%50 == 0 || i == job.Args.Rows {
			pct := float64(i) * 100 / float64(job.Args.Rows)
			msg := fmt.Sprintf("imported %d of %d rows", i, job.Args.Rows)
			if err := goodjob.SetProgress(ctx, pct, msg); err != nil {
				return err
			}
		}
	}
	return goodjob.SetResult(ctx, map[string]any{"file": job.Args.File, "rows": job.Args.Rows})
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "progress:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		var err error
		if dsn, err = testdb.Database(ctx, "goodjob_demo"); err != nil {
			return err
		}
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return err
	}
	client, err := goodjob.New(pool, goodjob.Config{})
	if err != nil {
		return err
	}
	if err := goodjob.Register(client, goodjob.WorkFunc[CSVImport](importRows)); err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = client.Stop(context.Background()) }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: routes(client), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	slog.Info("open the import page", "url", "http://"+ln.Addr().String()+"/")
	<-ctx.Done()
	return nil
}

func routes(client *goodjob.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	mux.HandleFunc("POST /imports", func(w http.ResponseWriter, r *http.Request) {
		row, err := client.Enqueue(r.Context(), CSVImport{File: "customers.csv", Rows: 500})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": row.ID.String()})
	})
	// This demo lets everyone watch every job; a real application checks
	// that the signed-in user owns the job.
	mux.Handle("/status/", dashboard.ProgressHandler(client, dashboard.Config{
		BasePath:      "/status",
		AuthorizeFunc: func(http.ResponseWriter, *http.Request) bool { return true },
	}))
	return mux
}
