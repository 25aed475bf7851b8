package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// The statements below serve the benchmarks (package internal/bench) only.
// They run in a scratch database the benchmark made, never on users' jobs.

// BenchReset empties the job tables and refreshes their statistics, so each
// measurement starts from the same state.
func BenchReset(ctx context.Context, db DBTX) error {
	if _, err := db.Exec(ctx, `TRUNCATE good_jobs, good_job_executions`); err != nil {
		return fmt.Errorf("empty job tables: %w", err)
	}
	return BenchVacuum(ctx, db)
}

// BenchVacuum vacuums and analyzes good_jobs.
func BenchVacuum(ctx context.Context, db DBTX) error {
	if _, err := db.Exec(ctx, `VACUUM ANALYZE good_jobs`); err != nil {
		return fmt.Errorf("vacuum good_jobs: %w", err)
	}
	return nil
}

// BenchRows says which kind of rows BenchFill writes.
type BenchRows int

// Rows BenchFill writes.
const (
	// BenchFinished rows ran and finished an hour before Now.
	BenchFinished BenchRows = iota
	// BenchFuture rows are scheduled one millisecond apart from an hour
	// after Now.
	BenchFuture
	// BenchDue rows are waiting and due, created and scheduled at Now.
	BenchDue
)

// BenchFillParams describes rows written straight into good_jobs, set-based.
type BenchFillParams struct {
	Rows   BenchRows
	Kind   string
	Queue  string
	Count  int
	Params []byte    // serialized_params of every row
	Now    time.Time // UTC
}

// benchFillSQL writes finished, future or due rows. Finished and future
// rows have a created_at a day before $4, so BenchCount for a run started
// at $4 leaves them out.
var benchFillSQL = map[BenchRows]string{
	BenchFinished: `
INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, performed_at, finished_at, created_at, updated_at, executions_count)
SELECT g, g, $1, $2, 0, $3, t, t, t, t - interval '1 day', t, 1
FROM (SELECT gen_random_uuid() AS g,
	$4::timestamp - interval '1 hour' - make_interval(secs => i / 1000.0) AS t
	FROM generate_series(1, $5) AS i) AS s`,
	BenchFuture: `
INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, created_at, updated_at, executions_count)
SELECT g, g, $1, $2, 0, $3, $4::timestamp + interval '1 hour' + make_interval(secs => i / 1000.0),
	$4::timestamp - interval '1 day', $4::timestamp - interval '1 day', 0
FROM (SELECT i, gen_random_uuid() AS g FROM generate_series(1, $5) AS i) AS s`,
	BenchDue: `
INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, created_at, updated_at, executions_count)
SELECT g, g, $1, $2, 0, $3, $4, $4, $4, 0
FROM (SELECT gen_random_uuid() AS g FROM generate_series(1, $5) AS i) AS s`,
}

// BenchFill writes p.Count rows of one kind in one statement.
func BenchFill(ctx context.Context, db DBTX, p BenchFillParams) error {
	query, ok := benchFillSQL[p.Rows]
	if !ok {
		return fmt.Errorf("fill good_jobs: unknown rows %d", p.Rows)
	}
	if _, err := db.Exec(ctx, query, p.Kind, p.Queue, p.Params, p.Now, p.Count); err != nil {
		return fmt.Errorf("fill good_jobs with %d rows: %w", p.Count, err)
	}
	return nil
}

// BenchCount returns how many jobs of kind created at or after since exist,
// and how many of them finished without an error.
func BenchCount(ctx context.Context, db DBTX, kind string, since time.Time) (total, ok int,
	err error) {
	err = db.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NULL)
		FROM good_jobs WHERE job_class = $1 AND created_at >= $2`, kind, since).Scan(&total, &ok)
	if err != nil {
		return 0, 0, fmt.Errorf("count benchmark jobs: %w", err)
	}
	return total, ok, nil
}

// BenchSerializedParams returns the serialized_params of one job, so raw
// statements can write rows as large as the library's.
func BenchSerializedParams(ctx context.Context, db DBTX, id uuid.UUID) ([]byte, error) {
	var b []byte
	err := db.QueryRow(ctx, `SELECT serialized_params FROM good_jobs WHERE id = $1`, id).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("read serialized_params of job %s: %w", id, err)
	}
	return b, nil
}

// Raw statements: the least SQL the design needs per job, for the raw limit
// that goodjob's own figures are compared with. They use the same table,
// indexes and commit settings as the library, without its bookkeeping.

const benchRawInsertSQL = `
INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, created_at, updated_at, executions_count)
VALUES ($1, $1, $2, $3, 0, $4, $5, $5, $5, 0)`

// BenchRawInsert writes one job row, without a notification.
func BenchRawInsert(ctx context.Context, db DBTX, id uuid.UUID, kind, queue string,
	params []byte, now time.Time) error {
	if _, err := db.Exec(ctx, benchRawInsertSQL, id, kind, queue, params, now); err != nil {
		return fmt.Errorf("insert raw job: %w", err)
	}
	return nil
}

const benchRawClaimSQL = `
WITH c AS (
	SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL AND scheduled_at <= $1
		AND job_class = $2
	ORDER BY priority ASC NULLS LAST, scheduled_at, id
	LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE good_jobs g SET locked_by_id = $4, locked_at = $1, performed_at = $1
FROM c WHERE g.id = c.id` + asyncCommit + `
RETURNING g.id`

// BenchRawClaim locks up to limit due jobs of kind for processID, as Claim
// does, and returns their ids as bytes, the cheapest form for pgx to send.
func BenchRawClaim(ctx context.Context, db DBTX, processID uuid.UUID, kind string, limit int,
	now time.Time) ([][16]byte, error) {
	rows, err := db.Query(ctx, benchRawClaimSQL, now, kind, limit, processID)
	if err != nil {
		return nil, fmt.Errorf("claim raw jobs: %w", err)
	}
	defer rows.Close()
	ids := make([][16]byte, 0, limit)
	for rows.Next() {
		var id [16]byte
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("claim raw jobs: scan: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim raw jobs: %w", err)
	}
	return ids, nil
}

const benchRawFinishSQL = `
WITH u AS (
	UPDATE good_jobs SET finished_at = $1, locked_by_id = NULL, locked_at = NULL, updated_at = $1
	WHERE id = ANY($2::uuid[]) AND locked_by_id = $3
	RETURNING active_job_id, job_class, queue_name, serialized_params, scheduled_at, performed_at
)
INSERT INTO good_job_executions (id, created_at, updated_at, active_job_id, job_class,
	queue_name, serialized_params, scheduled_at, finished_at, process_id, duration)
SELECT gen_random_uuid(), performed_at, $1, active_job_id, job_class, queue_name,
	serialized_params, scheduled_at, $1, $3, $1 - performed_at
FROM u`

// BenchRawFinish marks the jobs finished and records one execution row for
// each, in one statement fenced by locked_by_id, as Complete does.
func BenchRawFinish(ctx context.Context, db DBTX, processID uuid.UUID, ids [][16]byte,
	now time.Time) (int, error) {
	tag, err := db.Exec(ctx, benchRawFinishSQL, now, ids, processID)
	if err != nil {
		return 0, fmt.Errorf("finish %d raw jobs: %w", len(ids), err)
	}
	return int(tag.RowsAffected()), nil
}

// BenchServerVersion returns the server's version string, e.g. "15.4".
func BenchServerVersion(ctx context.Context, db DBTX) (string, error) {
	var v string
	if err := db.QueryRow(ctx, `SHOW server_version`).Scan(&v); err != nil {
		return "", fmt.Errorf("read server version: %w", err)
	}
	return v, nil
}
