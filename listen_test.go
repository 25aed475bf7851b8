package goodjob_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// withAppName returns connString with application_name set to name, so a
// test can find its own sessions in pg_stat_activity.
func withAppName(t testing.TB, connString, name string) string {
	t.Helper()
	if !strings.Contains(connString, "://") {
		return connString + " application_name=" + name
	}
	u, err := url.Parse(connString)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// poolWithAppName opens a pool on connString whose sessions carry name.
func poolWithAppName(t testing.TB, connString, name string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), withAppName(t, connString, name))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// listeners counts the sessions named name that LISTEN: their last
// statement was the LISTEN or the listener's keepalive ping.
func listeners(t testing.TB, pool *pgxpool.Pool, name string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*)
		FROM pg_stat_activity WHERE application_name = $1
			AND (query LIKE 'LISTEN %' OR query = '-- ping')`,
		name).Scan(&n))
	return n
}

func TestNew_ListenConfig(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	_, err := goodjob.New(db.Pool, goodjob.Config{ListenConnString: "postgres://%zz"})
	require.ErrorContains(t, err, "Config.ListenConnString")
	_, err = goodjob.New(db.Pool, goodjob.Config{ListenConnString: db.URL,
		DisableListen: true})
	require.ErrorContains(t, err, "DisableListen")
	_, err = goodjob.New(db.Pool, goodjob.Config{ListenConnString: db.URL})
	require.NoError(t, err)
}

// TestClient_ListenApplicationName: the LISTEN connection is named in
// pg_stat_activity unless its configuration names it already.
func TestClient_ListenApplicationName(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	cases := []struct {
		name   string
		pool   *pgxpool.Pool
		listen string
		want   string
	}{
		{"Default", db.Pool, "", goodjob.ListenApplicationName},
		{"Pool", poolWithAppName(t, db.URL, "orders-web"), "", "orders-web"},
		{"ListenURLNamed", db.Pool, withAppName(t, db.URL, "orders-listen"), "orders-listen"},
		{"ListenURL", db.Pool, db.URL, goodjob.ListenApplicationName},
	}
	for _, tc := range cases {
		c, err := goodjob.New(tc.pool, goodjob.Config{ListenConnString: tc.listen})
		require.NoError(t, err, tc.name)
		got, err := goodjob.ListenApplicationNameOf(c)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}

// TestClient_DisableListen: with no LISTEN connection a job enqueued by
// another Client is found by the poll, and no session of the Client's pool
// ever runs LISTEN.
func TestClient_DisableListen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	name := "goodjob-test-" + uuid.NewString()[:8]
	w := newClient(t, poolWithAppName(t, db.URL, name), goodjob.Config{
		DisableListen: true, PollInterval: 50 * time.Millisecond,
	})
	ran := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(w, recorder(ran)))
	start(t, w)

	other := newClient(t, db.Pool, goodjob.Config{})
	_, err := other.Enqueue(ctx, noopArgs{N: 7})
	require.NoError(t, err)
	require.Equal(t, 7, waitFor(t, ran, 10*time.Second, "polled job").N)
	require.Zero(t, listeners(t, db.Pool, name), "no LISTEN connection was opened")
}

// TestClient_ListenConnString: the listener connects with its own
// connection string and wakes the pools, which never poll here.
func TestClient_ListenConnString(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	name := "goodjob-test-" + uuid.NewString()[:8]
	w := newClient(t, db.Pool, goodjob.Config{
		ListenConnString: withAppName(t, db.URL, name), PollInterval: -1,
	})
	ran := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(w, recorder(ran)))
	start(t, w) // waits for the first LISTEN
	require.Equal(t, 1, listeners(t, db.Pool, name), "the listener used ListenConnString")

	other := newClient(t, db.Pool, goodjob.Config{})
	_, err := other.Enqueue(ctx, noopArgs{N: 8})
	require.NoError(t, err)
	require.Equal(t, 8, waitFor(t, ran, 10*time.Second, "notified job").N)
}

// TestRunWorker_ListenFlags: --listen-url reaches the listener, and with
// DisableListen /status/connected follows the pool.
func TestRunWorker_ListenFlags(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)

	err := goodjob.RunWorker(t.Context(), newClient(t, db.Pool, goodjob.Config{}),
		[]string{"worker", "--listen-url", "postgres://%zz"})
	require.ErrorIs(t, err, goodjob.ErrInvalidFlags)

	name := "goodjob-test-" + uuid.NewString()[:8]
	runProbed(t, newClient(t, db.Pool, goodjob.Config{}),
		"--listen-url", withAppName(t, db.URL, name))
	require.Equal(t, 1, listeners(t, db.Pool, name), "the listener used --listen-url")

	runProbed(t, newClient(t, db.Pool, goodjob.Config{DisableListen: true}))
}

// runProbed runs c through RunWorker with extra args until
// /status/connected answers 200, then stops it. The worker stays up until
// the test's checks after runProbed are done.
func runProbed(t *testing.T, c *goodjob.Client, args ...string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- goodjob.RunWorker(ctx, c,
			append([]string{"worker", "--probe-port", fmt.Sprint(port)}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, waitFor(t, done, 10*time.Second, "RunWorker to return"))
	})
	waitConnected(t, port)
}
