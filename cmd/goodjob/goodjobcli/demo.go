package goodjobcli

import (
	"context"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/demo"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name: "demo",
		Args: "[--serve] [--addr HOST:PORT] [--queues Q] [--max-threads N] [--poll-interval D]",
		Summary: "Run the demo: enqueue from an HTTP handler, work in-process.\n" +
			"An HTTP handler enqueues welcome emails in its own transaction and\n" +
			"in-process workers send them, retrying one failure. Without DATABASE_URL\n" +
			"it creates a database named goodjob_demo on a local server.",
		Flags: demoFlags,
	})
}

func demoFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	url := dbFlag(fs)
	addr := fs.String("addr", "", "127.0.0.1:0", "address the HTTP server listens on")
	serve := fs.Bool("serve", "", false, "keep serving until interrupted instead of the tour")
	queues := fs.String("queues", "GOOD_JOB_QUEUES", "*:5", "queues and pools to work")
	threads := fs.Int("max-threads", "GOOD_JOB_MAX_THREADS", goodjob.MaxThreadsDefault,
		"goroutines per pool that names no count")
	poll := fs.Duration("poll-interval", "GOOD_JOB_POLL_INTERVAL", goodjob.PollIntervalDefault,
		"fallback poll interval; a negative value never polls")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		if *threads < 1 {
			return usagef("--max-threads is %d, want 1 or more", *threads)
		}
		return demo.Run(ctx, demo.Options{
			Addr: *addr, Serve: *serve, DatabaseURL: *url, Queues: *queues,
			MaxThreads: *threads, PollInterval: *poll, Out: env.Stdout,
		})
	}
}
