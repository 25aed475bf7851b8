// Package migrator applies the SQL files of package migrations to a database
// and records which ones it applied.
package migrator

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/migrations"
)

// lockKey is the pg_advisory_xact_lock key that serializes migrations. It is
// fixed so that every process and every version of this library agrees on it;
// the value is "goodjobm" read as a big-endian int64. The lock covers the
// whole database, so migrations of different schemas also wait for each
// other, which costs little because they are short.
const lockKey int64 = 0x676f6f646a6f626d

// createTableSQL creates the table that records applied migrations.
const createTableSQL = `CREATE TABLE IF NOT EXISTS good_job_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamp(6) without time zone NOT NULL
)`

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string // file name without the number and the .sql suffix
	file    string
	sql     string
}

// Apply runs every migration not yet recorded in good_job_migrations, in
// version order, and records it.
//
// Everything happens in one transaction that starts by taking a
// transaction-scoped advisory lock. Processes that call Apply at the same
// time therefore run one after the other, and the later ones find nothing
// left to do. A transaction-scoped lock is released by COMMIT or ROLLBACK, so
// Apply also works through PgBouncer in transaction mode, where a
// session-scoped lock could be left on a server connection that another
// client gets next. If any file fails, nothing is applied.
//
// The tables are made in the first schema of the connection's search_path.
func Apply(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := load()
	if err != nil {
		return err
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, createTableSQL); err != nil {
		return fmt.Errorf("create good_job_migrations: %w", err)
	}

	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}

	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := run(ctx, tx, m); err != nil {
			return err
		}
	}

	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// SQL returns every migration file in version order, each preceded by a
// comment naming it. It is what `goodjob migrate --print` writes for teams
// that apply migrations with their own tool. The text does not create or
// fill good_job_migrations.
func SQL() (string, error) {
	ms, err := load()
	if err != nil {
		return "", err
	}

	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "-- goodjob migration %s\n\n", m.file)
		b.WriteString(m.sql)
		if !strings.HasSuffix(m.sql, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

// run applies one migration and records it, inside tx.
func run(ctx context.Context, tx pgx.Tx, m migration) error {
	// Exec without arguments uses the simple query protocol, which accepts a
	// file of several statements.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.file, err)
	}

	// applied_at holds UTC like GoodJob's timestamp columns; Go supplies it
	// so that the session's TimeZone does not matter.
	_, err := tx.Exec(ctx,
		"INSERT INTO good_job_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.file, err)
	}
	return nil
}

// appliedVersions reads the versions already recorded.
func appliedVersions(ctx context.Context, tx pgx.Tx) (map[int]bool, error) {
	rows, err := tx.Query(ctx, "SELECT version FROM good_job_migrations")
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}

	applied := make(map[int]bool, len(versions))
	for _, v := range versions {
		applied[int(v)] = true
	}
	return applied, nil
}

// load reads the embedded files and sorts them by version.
func load() ([]migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("list migration files: %w", err)
	}

	var ms []migration
	seen := make(map[int]string)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := parseName(e.Name())
		if err != nil {
			return nil, err
		}
		if other, ok := seen[m.version]; ok {
			return nil, fmt.Errorf("load migrations: %s and %s share version %d",
				other, m.file, m.version)
		}
		seen[m.version] = m.file

		body, err := fs.ReadFile(migrations.FS, m.file)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", m.file, err)
		}
		m.sql = string(body)
		ms = append(ms, m)
	}

	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// parseName splits a file name such as 0001_create_good_jobs.sql into its
// version and name.
func parseName(file string) (migration, error) {
	num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
	if !ok || name == "" {
		return migration{}, fmt.Errorf("parse migration file name %q: want NNNN_name.sql", file)
	}
	version, err := strconv.Atoi(num)
	if err != nil || version <= 0 {
		return migration{}, fmt.Errorf("parse migration file name %q: bad version number", file)
	}
	return migration{version: version, name: name, file: file}, nil
}
