package goodjobcli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name: "dashboard",
		Args: "[--addr :8080] [--user U --password P] [--read-only] [--database-url URL]",
		Summary: "Serve the web dashboard.\nWithout --user and --password it answers " +
			"requests from this machine only.",
		Flags: dashboardFlags,
	})
}

func dashboardFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	addr := fs.String("addr", "GOOD_JOB_DASHBOARD_ADDR", "127.0.0.1:8080", "address to listen on")
	user := fs.String("user", "GOOD_JOB_DASHBOARD_USER", "", "basic-auth user name")
	password := fs.String("password", "GOOD_JOB_DASHBOARD_PASSWORD", "",
		"basic-auth password")
	readOnly := fs.Bool("read-only", "", false, "show everything, change nothing")
	url := dbFlag(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		if (*user == "") != (*password == "") {
			return usagef("give both --user and --password, or neither")
		}
		client, closeDB, err := openClient(ctx, *url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		auth := loopbackOnly
		if *user != "" {
			auth = dashboard.BasicAuth(*user, *password)
		}
		h := dashboard.New(client, dashboard.Config{AuthorizeFunc: auth, ReadOnly: *readOnly})
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w (is the port taken? try --addr)", *addr, err)
		}
		fmt.Fprintf(env.Stdout, "dashboard on http://%s/\n", ln.Addr())
		return serve(ctx, ln, h)
	}
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopbackOnly lets in requests from this machine only.
func loopbackOnly(w http.ResponseWriter, r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return true
	}
	http.Error(w, "this dashboard answers this machine only; start it with --user and "+
		"--password to open it to others", http.StatusForbidden)
	return false
}
