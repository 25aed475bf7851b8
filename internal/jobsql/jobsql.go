// Package jobsql holds every SQL statement the library runs against the
// good_job_* tables, so they can be read and reviewed side by side.
//
// Timestamps in GoodJob's schema are `timestamp without time zone` holding
// UTC. pgx writes a time.Time into such a column by dropping its zone, so
// every time bound here must already be in UTC; callers use [UTC] or
// time.Time.UTC. Nothing here compares a column with now(), whose result
// would follow the session's TimeZone setting.
package jobsql

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what the statements need: a pool, a connection or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Channel is the LISTEN/NOTIFY channel GoodJob uses for wake-ups.
const Channel = "good_job"

// LockTypeSkipLocked is good_jobs.lock_type for rows claimed with
// FOR UPDATE SKIP LOCKED, as GoodJob records it.
const LockTypeSkipLocked = 1

// Error events, as GoodJob numbers them in good_jobs.error_event and
// good_job_executions.error_event.
const (
	EventInterrupted  int16 = 0
	EventUnhandled    int16 = 1
	EventHandled      int16 = 2
	EventRetried      int16 = 3
	EventRetryStopped int16 = 4
	EventDiscarded    int16 = 5
)

// UTC returns t in UTC, the only zone the schema's timestamps hold.
func UTC(t time.Time) time.Time { return t.UTC() }
