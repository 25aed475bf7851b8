// Package demo is goodjob's end-to-end demonstration, shared by
// examples/demo and "goodjob demo": an HTTP handler enqueues a job in the
// same transaction as its own write, and workers in the same process run
// it, retrying a failure.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// WelcomeEmail is the job the signup handler enqueues.
type WelcomeEmail struct {
	Email string `json:"email"`
}

// Kind names the job in good_jobs.job_class.
func (WelcomeEmail) Kind() string { return "WelcomeEmail" }

// Options configure Run.
type Options struct {
	// Addr is where the HTTP server listens; default 127.0.0.1:0.
	Addr string
	// Serve keeps serving until ctx ends instead of running the tour.
	Serve bool
	// DatabaseURL is the database to use. Empty: a database named
	// goodjob_demo on the server the tests would find.
	DatabaseURL string
	// Queues, MaxThreads and PollInterval configure the workers; zero
	// values mean goodjob's defaults, except Queues, which is "*:5".
	Queues       string
	MaxThreads   int
	PollInterval time.Duration
	// Out receives the logs and the tour's report; default os.Stdout.
	Out io.Writer
}

// Run migrates the database, starts workers and an HTTP server whose
// signup handler enqueues a job in its own transaction, then posts a few
// signups and prints what the workers did. With Options.Serve it serves
// until ctx ends instead.
func Run(ctx context.Context, o Options) error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Queues == "" {
		o.Queues = "*:5"
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	out := o.Out
	logger := slog.New(slog.NewTextHandler(out, nil))
	pool, err := openDB(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := goodjob.Migrate(ctx, pool); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS demo_signups (
		id bigserial PRIMARY KEY, email text NOT NULL UNIQUE)`); err != nil {
		return fmt.Errorf("create demo table: %w", err)
	}

	client, err := goodjob.New(pool, goodjob.Config{
		Logger: logger, Queues: o.Queues, MaxThreads: o.MaxThreads, PollInterval: o.PollInterval,
	})
	if err != nil {
		return err
	}
	sent := newTracker()
	err = goodjob.Register(client, goodjob.WorkFunc[WelcomeEmail](
		func(ctx context.Context, job *goodjob.Job[WelcomeEmail]) error {
			if strings.HasPrefix(job.Args.Email, "flaky") && job.Attempt == 1 {
				logger.Info("mail server said try later", "email", job.Args.Email)
				return errors.New("smtp: 421 try again later")
			}
			logger.Info("sent welcome email", "email", job.Args.Email,
				"attempt", job.Attempt, "job_id", job.ID)
			sent.done(job.Args.Email)
			return nil
		}), goodjob.Retry(goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Second)}))
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	stopped := false
	stopClient := func() error {
		if stopped {
			return nil
		}
		stopped = true
		return client.Stop(context.Background())
	}
	defer func() { _ = stopClient() }()

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", signupHandler(pool, client))
	// The dashboard, open to this machine only; a real application puts its
	// own login check in AuthorizeFunc (see dashboard.BasicAuth).
	mux.Handle("/goodjob/", dashboard.New(client, dashboard.Config{
		BasePath: "/goodjob", AuthorizeFunc: loopbackOnly, Logger: logger,
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	logger.Info("serving", "signup", base+"/signup", "dashboard", base+"/goodjob/")

	if o.Serve {
		<-ctx.Done()
		return nil
	}
	if err := tour(ctx, out, base, sent); err != nil {
		return err
	}
	// Stop writes every outcome before it returns, so the table is final.
	if err := stopClient(); err != nil {
		return err
	}
	return printJobs(ctx, out, pool, sent)
}

// signupHandler stores a signup and enqueues its welcome email in one
// transaction: either both happen or neither does.
func signupHandler(pool *pgxpool.Pool, client *goodjob.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		email := r.FormValue("email")
		if !strings.Contains(email, "@") {
			http.Error(w, "email must contain @", http.StatusBadRequest)
			return
		}
		tx, err := pool.Begin(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(r.Context())) }()
		if _, err := tx.Exec(r.Context(),
			"INSERT INTO demo_signups (email) VALUES ($1)", email); err != nil {
			http.Error(w, "already signed up", http.StatusConflict)
			return
		}
		job, err := client.EnqueueTx(r.Context(), tx, WelcomeEmail{Email: email})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := tx.Commit(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "job %s enqueued\n", job.ID)
	})
	return mux
}

// tour posts a few signups and waits for their emails.
func tour(ctx context.Context, out io.Writer, base string, sent *tracker) error {
	suffix := time.Now().Format("150405.000")
	emails := []string{"ada-" + suffix + "@example.com", "flaky-" + suffix + "@example.com",
		"grace-" + suffix + "@example.com"}
	for _, e := range append(emails, "not-an-email", emails[0]) {
		resp, err := http.PostForm(base+"/signup", url.Values{"email": {e}})
		if err != nil {
			return fmt.Errorf("post signup: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(out, "POST /signup email=%s -> %d %s", e, resp.StatusCode, body)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return sent.wait(waitCtx, emails)
}

// printJobs shows the rows the tour's jobs left in good_jobs.
func printJobs(ctx context.Context, out io.Writer, pool *pgxpool.Pool, sent *tracker) error {
	emails := sent.emails()
	rows, err := pool.Query(ctx, `SELECT serialized_params->'arguments'->0->>'email',
		executions_count, finished_at IS NOT NULL, coalesce(error, '')
		FROM good_jobs WHERE serialized_params->'arguments'->0->>'email' = ANY($1)
		ORDER BY created_at`, emails)
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	fmt.Fprintln(out, "\njobs in good_jobs:")
	for rows.Next() {
		var email, lastErr string
		var runs int
		var finished bool
		if err := rows.Scan(&email, &runs, &finished, &lastErr); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-40s runs=%d finished=%t last_error=%q\n", email, runs, finished, lastErr)
	}
	return rows.Err()
}

func openDB(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	if dsn == "" {
		var err error
		if dsn, err = testdb.Database(ctx, "goodjob_demo"); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return pool, nil
}

// tracker lets the tour wait until every email was sent.
type tracker struct {
	mu     sync.Mutex
	sent   map[string]bool
	change chan struct{}
}

func newTracker() *tracker {
	return &tracker{sent: make(map[string]bool), change: make(chan struct{}, 1)}
}

func (t *tracker) done(email string) {
	t.mu.Lock()
	t.sent[email] = true
	t.mu.Unlock()
	select {
	case t.change <- struct{}{}:
	default:
	}
}

func (t *tracker) wait(ctx context.Context, emails []string) error {
	for {
		t.mu.Lock()
		n := 0
		for _, e := range emails {
			if t.sent[e] {
				n++
			}
		}
		t.mu.Unlock()
		if n == len(emails) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for emails: %w", ctx.Err())
		case <-t.change:
		}
	}
}

func (t *tracker) emails() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for e := range t.sent {
		out = append(out, e)
	}
	return out
}

// loopbackOnly lets in requests from this machine only.
func loopbackOnly(w http.ResponseWriter, r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return true
	}
	http.Error(w, "the demo dashboard is open to this machine only", http.StatusForbidden)
	return false
}
