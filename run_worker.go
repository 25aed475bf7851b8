package goodjob

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	ossignal "os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/goodjob-go/goodjob/internal/envflag"
)

// ErrInvalidFlags wraps every rejection of RunWorker's command line or of
// the GOOD_JOB_* variables it reads. A main should exit with status 2.
var ErrInvalidFlags = errors.New("goodjob: invalid worker flags")

// probeShutdownTimeout bounds closing the probe server after Stop.
const probeShutdownTimeout = 5 * time.Second

// probePingTimeout bounds the pool ping behind /status/connected when the
// Client opens no LISTEN connection.
const probePingTimeout = 2 * time.Second

// workerFlags are GoodJob's start options; nil fields were not given.
type workerFlags struct {
	queues          *string
	maxThreads      *int
	pollInterval    *time.Duration
	shutdownTimeout *time.Duration
	probePort       *int
	listenURL       *string
}

// RunWorker runs c as a dedicated worker process, GoodJob's external mode:
// the user's main builds the Client, registers its workers (the job code
// must be compiled in) and hands over, as in
//
//	err := goodjob.RunWorker(ctx, client, os.Args)
//
// args is os.Args: args[0], the program name, is skipped. The flags are
// GoodJob's start options, each also read from its environment variable;
// a flag wins over the variable, and the variable over c's Config:
//
//	--queues            GOOD_JOB_QUEUES            Config.Queues
//	--max-threads       GOOD_JOB_MAX_THREADS       Config.MaxThreads
//	--poll-interval     GOOD_JOB_POLL_INTERVAL     Config.PollInterval (seconds or 10s)
//	--shutdown-timeout  GOOD_JOB_SHUTDOWN_TIMEOUT  Config.ShutdownTimeout (-1: wait forever)
//	--probe-port        GOOD_JOB_PROBE_PORT        health probe port; 0 serves none
//
// They re-configure c, so RunWorker must get a Client that is not started.
// It starts c, serves the probe, and on SIGINT or SIGTERM (or when ctx
// ends) stops c gracefully: claiming stops, running jobs get the shutdown
// timeout to finish, and whatever still runs then is cancelled and put
// back for another process. A second signal cuts the wait short.
//
// The probe answers GET /status (200 while the process is up),
// /status/started (200 while the pools run, 503 before start and once
// shutdown begins) and /status/connected (200 while started and the LISTEN
// connection is up, else 503), as GoodJob's probe does. With
// Config.DisableListen, /status/connected instead checks that the pool
// answers a ping.
//
// RunWorker returns nil after a graceful stop, flag.ErrHelp after printing
// the usage for --help, an error wrapping ErrInvalidFlags for a bad flag or
// variable, and Stop's error when jobs had to be released.
func RunWorker(ctx context.Context, c *Client, args []string) error {
	if len(args) > 0 {
		args = args[1:]
	}
	fs := envflag.New("worker", os.Getenv)
	fs.SetOutput(os.Stderr)
	wf := defineWorkerFlags(fs, c.cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrInvalidFlags, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", ErrInvalidFlags, fs.Args())
	}
	if err := c.reconfigure(wf); err != nil {
		return err
	}
	return c.runProcess(ctx, *wf.probePort)
}

func defineWorkerFlags(fs *envflag.Set, cfg Config) workerFlags {
	return workerFlags{
		queues: fs.String("queues", "GOOD_JOB_QUEUES", cfg.Queues,
			`queues and pools to work, e.g. "critical:2;default:5;*"`),
		maxThreads: fs.Int("max-threads", "GOOD_JOB_MAX_THREADS", cfg.MaxThreads,
			"goroutines of each pool that names no count"),
		pollInterval: fs.Duration("poll-interval", "GOOD_JOB_POLL_INTERVAL", cfg.PollInterval,
			"fallback poll interval (10s, or 10 for seconds); negative never polls"),
		shutdownTimeout: fs.Duration("shutdown-timeout", "GOOD_JOB_SHUTDOWN_TIMEOUT",
			cfg.ShutdownTimeout, "how long running jobs may finish at shutdown; -1 waits forever"),
		probePort: fs.Int("probe-port", "GOOD_JOB_PROBE_PORT", 0,
			"port of the HTTP health probe (/status, /status/started, /status/connected); 0: none"),
		listenURL: fs.String("listen-url", "GOOD_JOB_LISTEN_URL", cfg.ListenConnString,
			"connection string of the LISTEN connection, e.g. Postgres itself behind PgBouncer"),
	}
}

// reconfigure applies worker flags to a Client that has not started.
func (c *Client) reconfigure(wf workerFlags) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != nil {
		return fmt.Errorf("goodjob: RunWorker: %w", ErrStarted)
	}
	cfg := c.cfg
	cfg.Queues, cfg.MaxThreads = *wf.queues, *wf.maxThreads
	cfg.PollInterval, cfg.ShutdownTimeout = *wf.pollInterval, *wf.shutdownTimeout
	cfg.ListenConnString = *wf.listenURL
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFlags, err)
	}
	specs, err := parseQueues(cfg.Queues, cfg.MaxThreads)
	if err != nil {
		return fmt.Errorf("%w: --queues: %v", ErrInvalidFlags, err)
	}
	c.cfg, c.specs = cfg, specs
	return nil
}

// runProcess starts c and the probe, waits for a signal, and stops both.
func (c *Client) runProcess(ctx context.Context, probePort int) error {
	signals := make(chan os.Signal, 2)
	ossignal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer ossignal.Stop(signals)

	var probe *http.Server
	if probePort != 0 {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(probePort))
		if err != nil {
			return fmt.Errorf("goodjob: probe: %w", err)
		}
		probe = &http.Server{Handler: c.probeHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = probe.Serve(ln) }()
		c.logger.Info("probe listening", slog.String("addr", ln.Addr().String()))
	}
	if err := c.Start(ctx); err != nil {
		closeProbe(probe)
		return err
	}
	select {
	case sig := <-signals:
		c.logger.Info("shutting down", slog.String("signal", sig.String()))
	case <-ctx.Done():
		c.logger.Info("shutting down", slog.String("reason", "context done"))
	}

	// A second signal ends the wait for running jobs at once.
	interrupted, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-signals:
			c.logger.Warn("second signal, releasing running jobs now")
			cancel()
		case <-interrupted.Done():
		}
	}()
	stopCtx := interrupted
	if c.cfg.ShutdownTimeout > 0 {
		var cancelTimeout context.CancelFunc
		stopCtx, cancelTimeout = context.WithTimeout(interrupted, c.cfg.ShutdownTimeout)
		defer cancelTimeout()
	}
	err := c.Stop(stopCtx)
	closeProbe(probe)
	return err
}

func closeProbe(srv *http.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeShutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// probeHandler serves GoodJob's health probe paths.
func (c *Client) probeHandler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, up bool) {
		if !up {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "OK")
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { ok(w, true) })
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) { ok(w, true) })
	mux.HandleFunc("GET /status/started", func(w http.ResponseWriter, r *http.Request) {
		started, _ := c.health(r.Context())
		ok(w, started)
	})
	mux.HandleFunc("GET /status/connected", func(w http.ResponseWriter, r *http.Request) {
		started, connected := c.health(r.Context())
		ok(w, started && connected)
	})
	return mux
}

// health reports whether the pools run (started and not stopping) and
// whether the listener holds a LISTEN connection. Without a listener
// (Config.DisableListen) the pools' only link to the database is the pool,
// so connected is whether it answers a ping within probePingTimeout.
func (c *Client) health(ctx context.Context) (started, connected bool) {
	c.mu.RLock()
	rs := c.run
	c.mu.RUnlock()
	if rs == nil || rs.loopCtx.Err() != nil {
		return false, false
	}
	if rs.listener != nil {
		return true, rs.listener.BackendPID() != 0
	}
	ctx, cancel := context.WithTimeout(ctx, probePingTimeout)
	defer cancel()
	return true, c.db.Ping(ctx) == nil
}
