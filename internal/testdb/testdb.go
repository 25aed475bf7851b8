package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/migrator"
)

// setupTimeout bounds finding a server and making a database or schema.
const setupTimeout = 5 * time.Minute

// cleanupTimeout bounds dropping a schema or the package database.
const cleanupTimeout = 30 * time.Second

// DB is one test's schema in the test binary's database.
type DB struct {
	// Pool is open on URL. It is closed when the test ends.
	Pool *pgxpool.Pool

	// URL is a connection string for the test's schema: it sets
	// search_path to Schema as a runtime parameter, so any connection made
	// from it, also by a child process, sees the same tables.
	URL string

	// Schema is the name of the test's schema.
	Schema string
}

// pkgDB is the database this test binary makes once and Main drops.
var pkgDB struct {
	once    sync.Once
	err     error
	created bool          // whether the database exists and Main must drop it
	server  string        // the server's connection string
	name    string        // the database's name
	url     string        // a connection string for the database
	admin   *pgxpool.Pool // makes and drops schemas
}

// schemaSeq numbers the schemas of this test binary.
var schemaSeq atomic.Int64

// Main runs the tests of a package and then drops the database they used.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
// It exits the process with the code of m.Run. A failure to drop the
// database is reported on stderr and does not change that code.
func Main(m *testing.M) {
	code := m.Run()

	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := dropPackageDB(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
	}
	if err := stopContainer(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
	}
	os.Exit(code)
}

// New returns a fresh schema with goodjob's migrations applied. The schema
// is dropped and the pool closed when the test ends. It stops the test with
// t.Fatal if it cannot make the schema.
func New(t testing.TB) *DB {
	t.Helper()

	db := NewEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := migrator.Apply(ctx, db.Pool); err != nil {
		t.Fatalf("testdb: migrate schema %s: %v", db.Schema, err)
	}
	return db
}

// NewEmpty returns a fresh schema with no tables in it. The schema is
// dropped and the pool closed when the test ends. It stops the test with
// t.Fatal if it cannot make the schema.
func NewEmpty(t testing.TB) *DB {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	db, err := newSchema(ctx)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()

		db.Pool.Close()
		_, err := pkgDB.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+db.Schema+" CASCADE")
		if err != nil {
			t.Errorf("testdb: drop schema %s: %v", db.Schema, err)
		}
	})
	return db
}

// Open returns a fresh schema with goodjob's migrations applied, for code
// that has no testing.TB, such as runnable examples, and a function that
// closes its pool and drops it. [Main] drops it with the package database
// if the function is never called.
func Open(ctx context.Context) (*DB, func(), error) {
	db, err := newSchema(ctx)
	if err != nil {
		return nil, nil, err
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		db.Pool.Close()
		_, _ = pkgDB.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+db.Schema+" CASCADE")
	}
	if err := migrator.Apply(ctx, db.Pool); err != nil {
		drop()
		return nil, nil, fmt.Errorf("migrate schema %s: %w", db.Schema, err)
	}
	return db, drop, nil
}

// newSchema makes a schema in the package database and opens a pool on it.
func newSchema(ctx context.Context) (*DB, error) {
	if err := ensurePackageDB(ctx); err != nil {
		return nil, err
	}

	schema := "s_" + strconv.FormatInt(schemaSeq.Add(1), 10)
	if _, err := pkgDB.admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", schema, err)
	}

	connString, err := withParam(pkgDB.url, "search_path", schema)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		_, _ = pkgDB.admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		return nil, fmt.Errorf("open pool on schema %s: %w", schema, err)
	}
	return &DB{Pool: pool, URL: connString, Schema: schema}, nil
}

// ensurePackageDB makes the test binary's database the first time it is
// needed. A failure is remembered, so every later test fails the same way
// without trying again.
func ensurePackageDB(ctx context.Context) error {
	pkgDB.once.Do(func() { pkgDB.err = createPackageDB(ctx) })
	return pkgDB.err
}

// createPackageDB finds a server, makes a fresh database on it and opens
// the admin pool.
func createPackageDB(ctx context.Context) error {
	server, err := ServerURL(ctx)
	if err != nil {
		return err
	}
	name, err := randomName()
	if err != nil {
		return err
	}
	dbURL, err := withDatabase(server, name)
	if err != nil {
		return err
	}

	if err := createDatabase(ctx, server, name); err != nil {
		return err
	}
	pkgDB.server, pkgDB.name, pkgDB.url, pkgDB.created = server, name, dbURL, true

	admin, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("open pool on database %s: %w", name, err)
	}
	pkgDB.admin = admin
	return nil
}

// createDatabase runs CREATE DATABASE on the server. PostgreSQL refuses to
// copy template1 while another session is connected to it, which can happen
// for a moment when several test binaries start together, so that error is
// retried a few times.
func createDatabase(ctx context.Context, server, name string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()

	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" || attempt == 10 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create database %s: %w", name, ctx.Err())
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// dropPackageDB closes the admin pool and drops the package database, ending
// any sessions a test left open on it.
func dropPackageDB(ctx context.Context) error {
	if !pkgDB.created {
		return nil
	}
	if pkgDB.admin != nil {
		pkgDB.admin.Close()
	}

	conn, err := pgx.Connect(ctx, pkgDB.server)
	if err != nil {
		return fmt.Errorf("connect to drop database %s: %w", pkgDB.name, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()

	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pkgDB.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", pkgDB.name, err)
	}
	pkgDB.created = false
	return nil
}

// randomName returns a fresh database name such as goodjob_test_1a2b3c4d.
func randomName() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make database name: %w", err)
	}
	return "goodjob_test_" + hex.EncodeToString(b[:]), nil
}

// withDatabase returns connString changed to name the database dbname.
func withDatabase(connString, dbname string) (string, error) {
	if isURL(connString) {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse test server URL: %w", err)
		}
		u.Path = "/" + dbname
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later setting overrides an earlier one.
	return connString + " dbname=" + dbname, nil
}

// withParam returns connString with a run-time parameter set, such as
// search_path, which the server applies to every session opened from it.
func withParam(connString, key, value string) (string, error) {
	if isURL(connString) {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse test server URL: %w", err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return connString + " " + key + "=" + value, nil
}

// isURL reports whether connString is a URL rather than keyword/value pairs.
func isURL(connString string) bool {
	return strings.HasPrefix(connString, "postgres://") ||
		strings.HasPrefix(connString, "postgresql://")
}
