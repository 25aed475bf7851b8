// Package testdb gives tests their own PostgreSQL schema on a real server.
//
// Each test binary gets a fresh database, goodjob_test_<random>, made the
// first time a test asks for one and dropped by [Main] when the binary's
// tests end. Within it, each call to [New] or [NewEmpty] makes a fresh
// schema that only that test uses, so tests can call t.Parallel and commit,
// LISTEN and NOTIFY freely.
//
// Test packages use it like this:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		db := testdb.New(t)
//		// use db.Pool, or give db.URL to a child process
//	}
package testdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LocalURL is the server that ServerURL tries when no environment variable
// names one: a PostgreSQL on the default port that trusts user postgres.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// localProbeTimeout bounds the attempt to reach [LocalURL], so that a machine
// without a local server moves on to Docker quickly.
const localProbeTimeout = 2 * time.Second

// errNoServer explains every way to give the tests a server.
var errNoServer = errors.New("testdb: no PostgreSQL server for tests; do one of: " +
	"set GOODJOB_TEST_DATABASE_URL (or DATABASE_URL) to a server's connection string, " +
	"e.g. " + LocalURL + "; " +
	"start a local PostgreSQL on 127.0.0.1:5432 that lets user postgres in without a password; " +
	"or start Docker, and a postgres:16 container will be started for the tests")

// server caches the answer of ServerURL for the life of the process.
var server struct {
	mu  sync.Mutex
	url string
}

// ServerURL returns a connection string for a PostgreSQL server to run tests
// on. It uses the first of these that is available:
//
//  1. the environment variable GOODJOB_TEST_DATABASE_URL;
//  2. the environment variable DATABASE_URL;
//  3. a server answering at [LocalURL];
//  4. a throwaway postgres:16 container, when a Docker engine is reachable
//     (DOCKER_HOST is set or /var/run/docker.sock exists).
//
// The answer is cached for the rest of the process. The returned connection
// string names the server's maintenance database; tests use their own
// database and schema through [New] instead of using it directly.
func ServerURL(ctx context.Context) (string, error) {
	server.mu.Lock()
	defer server.mu.Unlock()

	if server.url != "" {
		return server.url, nil
	}
	url, err := findServer(ctx)
	if err != nil {
		return "", err
	}
	server.url = url
	return url, nil
}

// findServer tries each source of a server in order.
func findServer(ctx context.Context) (string, error) {
	for _, name := range []string{"GOODJOB_TEST_DATABASE_URL", "DATABASE_URL"} {
		if url := os.Getenv(name); url != "" {
			return url, nil
		}
	}

	if reachable(ctx, LocalURL) {
		return LocalURL, nil
	}

	if dockerAvailable() {
		url, err := startContainer(ctx)
		if err != nil {
			return "", fmt.Errorf("testdb: start postgres container: %w", err)
		}
		return url, nil
	}
	return "", errNoServer
}

// reachable reports whether a connection to url succeeds within
// localProbeTimeout.
func reachable(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, localProbeTimeout)
	defer cancel()
	return ping(ctx, url) == nil
}

// ping opens one connection to url, runs a trivial query and closes it.
func ping(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	return conn.Ping(ctx)
}

// Database returns a connection string for the database name on the server
// that [ServerURL] finds, creating the database if it does not exist. Demo
// programs use it to find a database the way the tests do.
func Database(ctx context.Context, name string) (string, error) {
	server, err := ServerURL(ctx)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect to server: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)",
		name).Scan(&exists)
	_ = conn.Close(ctx)
	if err != nil {
		return "", fmt.Errorf("look up database %s: %w", name, err)
	}
	if !exists {
		err := createDatabase(ctx, server, pgx.Identifier{name}.Sanitize())
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") {
			return "", err
		}
	}
	return withDatabase(server, name)
}
