package notifier_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/notifier"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
	n, ok := notifier.Parse(notifier.Payload("mailers", at, 3))
	require.True(t, ok)
	require.Equal(t, "mailers", n.Queue)
	require.True(t, at.Equal(n.ScheduledAt), "%v != %v", n.ScheduledAt, at)

	for _, bad := range []string{"", "not json", `{"queue_name": 5}`, "[]"} {
		_, ok := notifier.Parse(bad)
		require.False(t, ok, "payload %q", bad)
	}
}

func TestListener_Reconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	cfg, err := pgx.ParseConfig(db.URL)
	require.NoError(t, err)

	notes := make(chan notifier.Notification, 10)
	reconnected := make(chan struct{}, 10)
	l := notifier.New(notifier.Config{
		ConnConfig:  cfg,
		Channel:     "good_job",
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify:      func(n notifier.Notification, _ bool) { notes <- n },
		Reconnected: func() { reconnected <- struct{}{} },
	})
	run(t, ctx, l)
	<-l.Ready()

	send := func(queue string) {
		_, err := db.Pool.Exec(ctx, "SELECT pg_notify('good_job', $1)",
			notifier.Payload(queue, time.Now(), 1))
		require.NoError(t, err)
	}
	send("before")
	require.Equal(t, "before", receive(t, notes).Queue)

	for i := range 2 {
		pid := l.BackendPID()
		require.NotZero(t, pid)
		_, err := db.Pool.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid))
		require.NoError(t, err)
		select {
		case <-reconnected:
		case <-time.After(10 * time.Second):
			t.Fatalf("no reconnect after kill %d", i+1)
		}
		require.NotEqual(t, pid, l.BackendPID())
		send("after")
		require.Equal(t, "after", receive(t, notes).Queue)
	}
}

func receive(t *testing.T, ch <-chan notifier.Notification) notifier.Notification {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
		panic("unreachable")
	}
}

// TestListener_PingsQuietConnection: a connection that goes silently dead
// (no FIN, no RST: a half-open TCP connection) is found by the keepalive
// ping and replaced, and a quiet but healthy one is pinged and kept.
func TestListener_PingsQuietConnection(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	cfg, err := pgx.ParseConfig(db.URL)
	require.NoError(t, err)
	proxy := startStallProxy(t, cfg)
	// NOTIFY reaches the whole database: a channel of its own keeps the
	// other tests' wake-ups out.
	const channel = "good_job_ping_test"

	notes := make(chan notifier.Notification, 10)
	reconnected := make(chan struct{}, 10)
	l := notifier.New(notifier.Config{
		ConnConfig:   cfg,
		Channel:      channel,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify:       func(n notifier.Notification, _ bool) { notes <- n },
		Reconnected:  func() { reconnected <- struct{}{} },
		PingInterval: 50 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
	})
	run(t, ctx, l)
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("listener never listened")
	}
	send := func(queue string) {
		_, err := db.Pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel,
			notifier.Payload(queue, time.Now(), 1))
		require.NoError(t, err)
	}

	pid := l.BackendPID()
	require.Eventually(t, func() bool {
		var query string
		err := db.Pool.QueryRow(ctx, "SELECT query FROM pg_stat_activity WHERE pid = $1",
			int32(pid)).Scan(&query)
		return err == nil && query == "-- ping"
	}, 10*time.Second, 10*time.Millisecond, "the quiet connection is pinged")
	send("quiet")
	require.Equal(t, "quiet", receive(t, notes).Queue)
	require.Equal(t, pid, l.BackendPID(), "a connection that answers its ping is kept")

	proxy.Stall()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect after the connection went silently dead")
	}
	require.NotEqual(t, pid, l.BackendPID())
	send("after")
	require.Equal(t, "after", receive(t, notes).Queue)
}

// run runs l until the test ends.
func run(t *testing.T, ctx context.Context, l *notifier.Listener) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(runCtx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
