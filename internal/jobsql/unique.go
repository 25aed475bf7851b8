package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// UniqueIndex is the partial unique index on (job_class, unique_key) of
// unfinished jobs, the arbiter of the unique inserts below.
const UniqueIndex = "index_good_jobs_on_job_class_and_unique_key_unfinished"

// cronIndex is GoodJob's unique index on (cron_key, cron_at).
const cronIndex = "index_good_jobs_on_cron_key_and_cron_at_cond"

// uniqueConflict is the ON CONFLICT clause of the unique inserts. DO UPDATE,
// unlike DO NOTHING, returns the row that holds the key, and it does so
// race-free: when the holder is being inserted or finished by another
// transaction, Postgres waits for that transaction and then either inserts
// (the holder rolled back or finished) or returns the committed holder. The
// update writes the value the row has already, and it locks the holder
// until the inserting transaction ends.
const uniqueConflict = `
	ON CONFLICT (job_class, unique_key) WHERE unique_key IS NOT NULL AND finished_at IS NULL
	DO UPDATE SET unique_key = EXCLUDED.unique_key
	RETURNING *`

// insertUniqueSQL writes one job with a unique key, or returns the
// unfinished job of its kind that holds the key. Only an inserted job sends
// its wake-up. $1 is now, for the state column.
const insertUniqueSQL = `
WITH ins AS (
	INSERT INTO good_jobs (
		id, active_job_id, job_class, queue_name, priority, serialized_params,
		scheduled_at, created_at, updated_at, labels, executions_count,
		concurrency_key, cron_key, cron_at, unique_key, batch_id, batch_callback_id
	) VALUES ($2, $2, $3, $4, $5, $6, $7, $8, $8, $9, 0, $10, $11, $12, $13, $15, $16)` +
	uniqueConflict + `
), note AS MATERIALIZED (
	SELECT count(*) AS notified
	FROM (SELECT pg_notify('good_job', $14) FROM ins WHERE ins.id = $2 AND $14 <> '') n
)
SELECT ` + adminJobColumns + ` FROM ins, note`

// ErrNoUniqueKey is returned by the unique inserts for a row without a key.
var ErrNoUniqueKey = errors.New("unique insert without a unique key")

// InsertUnique writes one job that has a unique key and returns it, or
// returns the unfinished job of the same kind that holds the key; inserted
// tells which. A clash with the cron index returns ErrDuplicate, as
// InsertOne does. now is the current time in UTC, for the row's state.
func InsertUnique(ctx context.Context, db DBTX, now time.Time,
	p InsertParams) (j AdminJob, inserted bool, err error) {
	if p.UniqueKey == nil {
		return j, false, ErrNoUniqueKey
	}
	var labels []string
	if len(p.Labels) > 0 {
		labels = p.Labels
	}
	row := db.QueryRow(ctx, insertUniqueSQL, now,
		p.ID, p.Kind, p.Queue, p.Priority, p.SerializedParams,
		p.ScheduledAt, p.CreatedAt, labels, p.ConcurrencyKey, p.CronKey, p.CronAt,
		p.UniqueKey, p.Payload, p.BatchID, p.BatchCallbackID)
	j, err = scanAdminJob(row)
	if isViolationOf(err, cronIndex) {
		return j, false, ErrDuplicate
	}
	if err != nil {
		return j, false, fmt.Errorf("insert unique job: %w", err)
	}
	return j, j.ID == p.ID, nil
}

// insertManyUniqueSQL is insertManySQL with unique keys: every input row
// returns one row, the inserted job or the job that holds its key. Rows are
// inserted in key order, so two batches that share keys lock them in the
// same order and cannot deadlock each other. Only inserted jobs count in the
// wake-ups. $1 is now, for the state column.
var insertManyUniqueSQL = bulkInput(2) + `
	ORDER BY job_class, unique_key, id` + uniqueConflict + `
), note AS MATERIALIZED (
	SELECT count(*) AS notified FROM (
		SELECT pg_notify('good_job', json_build_object(
			'queue_name', queue_name,
			'scheduled_at', to_char(min(scheduled_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
			'count', count(*))::text)
		FROM ins WHERE ins.id = ANY($2::uuid[]) GROUP BY queue_name
	) n
)
SELECT ` + adminJobColumns + ` FROM ins, note`

// InsertManyUnique writes every row in one round trip, like InsertMany,
// and returns one job per row, in the order of ps: the row as inserted, or
// the unfinished job that holds its key. No two rows of ps may share a kind
// and unique key; the caller keeps the first of such rows. inserted[i]
// tells whether ps[i] was written.
func InsertManyUnique(ctx context.Context, db DBTX, now time.Time,
	ps []InsertParams) (jobs []AdminJob, inserted []bool, err error) {
	if len(ps) == 0 {
		return nil, nil, nil
	}
	n := len(ps)
	rows, err := db.Query(ctx, insertManyUniqueSQL, append([]any{now}, bulkColumns(ps)...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("insert unique jobs: %w", err)
	}
	defer rows.Close()
	got := make([]AdminJob, 0, n)
	for rows.Next() {
		j, err := scanAdminJob(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("insert unique jobs: scan: %w", err)
		}
		got = append(got, j)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("insert unique jobs: %w", err)
	}
	return matchInput(ps, got)
}

// uniqueRef names the holder of a key: a kind and a unique key.
type uniqueRef struct{ kind, key string }

// matchInput puts the returned jobs in the order of ps: an inserted job
// carries the id of its input row, a holder the kind and key of it.
func matchInput(ps []InsertParams, got []AdminJob) ([]AdminJob, []bool, error) {
	byID := make(map[uuid.UUID]AdminJob, len(got))
	byKey := make(map[uniqueRef]AdminJob)
	for _, j := range got {
		byID[j.ID] = j
		if j.UniqueKey != nil {
			byKey[uniqueRef{j.Kind, *j.UniqueKey}] = j
		}
	}
	jobs := make([]AdminJob, len(ps))
	inserted := make([]bool, len(ps))
	for i, p := range ps {
		if j, ok := byID[p.ID]; ok {
			jobs[i], inserted[i] = j, true
			continue
		}
		if p.UniqueKey == nil {
			return nil, nil, fmt.Errorf("insert unique jobs: row %d was not returned", i)
		}
		j, ok := byKey[uniqueRef{p.Kind, *p.UniqueKey}]
		if !ok {
			return nil, nil, fmt.Errorf("insert unique jobs: no job returned for row %d", i)
		}
		jobs[i] = j
	}
	return jobs, inserted, nil
}

// UniqueHolder returns the id of the unfinished job of kind that holds key,
// or ErrNoJob when none does.
func UniqueHolder(ctx context.Context, db DBTX, kind, key string) (uuid.UUID, error) {
	var id uuid.UUID
	err := db.QueryRow(ctx, `SELECT id FROM good_jobs
		WHERE job_class = $1 AND unique_key = $2 AND finished_at IS NULL`, kind, key).Scan(&id)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return id, ErrNoJob
		}
		return id, fmt.Errorf("find holder of unique key: %w", err)
	}
	return id, nil
}

// IsUniqueViolation reports whether err is Postgres rejecting a row because
// an unfinished job of its kind holds its unique key.
func IsUniqueViolation(err error) bool {
	return isViolationOf(err, UniqueIndex)
}

// isViolationOf reports whether err is a unique violation of index.
func isViolationOf(err error, index string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == index
}
