package jobsql

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// InsertParams is one good_jobs row to write. Times are UTC.
type InsertParams struct {
	ID               uuid.UUID
	Kind             string
	Queue            string
	Priority         int32
	SerializedParams []byte
	ScheduledAt      time.Time
	CreatedAt        time.Time
	Labels           []string
	ConcurrencyKey   *string
	CronKey          *string
	CronAt           *time.Time
	// UniqueKey, when set, makes the insert go through InsertUnique or
	// InsertManyUnique, which return the job that holds the key instead.
	UniqueKey *string
	// BatchID puts the job in a batch; BatchCallbackID marks it as the
	// callback of one.
	BatchID         *uuid.UUID
	BatchCallbackID *uuid.UUID
	// Payload is the NOTIFY payload sent in the same statement. Empty sends
	// none: the caller wakes the workers after commit.
	Payload string
}

// insertOneSQL writes the row and notifies in one statement, so a caller
// without a transaction still gets an atomic insert-and-wake in one round
// trip. A duplicate (cron_key, cron_at) inserts nothing and notifies nobody.
const insertOneSQL = `
WITH ins AS (
	INSERT INTO good_jobs (
		id, active_job_id, job_class, queue_name, priority, serialized_params,
		scheduled_at, created_at, updated_at, labels, executions_count,
		concurrency_key, cron_key, cron_at, batch_id, batch_callback_id
	) VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $7, $8, 0, $9, $10, $11, $13, $14)
	ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING
	RETURNING id
)
SELECT pg_notify('good_job', $12) FROM ins`

// insertOneQuietSQL is insertOneSQL without the notification, for a row
// without a cron key: a plain INSERT, cheaper for the server than the
// speculative insertion of ON CONFLICT.
const insertOneQuietSQL = `
INSERT INTO good_jobs (
	id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, created_at, updated_at, labels, executions_count,
	concurrency_key, cron_key, cron_at, batch_id, batch_callback_id
) VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $7, $8, 0, $9, $10, $11, $12, $13)`

// insertOneQuietCronSQL is insertOneQuietSQL for a row with a cron key.
const insertOneQuietCronSQL = insertOneQuietSQL + `
ON CONFLICT (cron_key, cron_at) WHERE cron_key IS NOT NULL DO NOTHING`

// ErrDuplicate reports an insert skipped because its (cron_key, cron_at)
// pair exists already.
var ErrDuplicate = errors.New("duplicate cron_key and cron_at")

// InsertOne writes one job and sends its wake-up, unless p.Payload is
// empty. It returns ErrDuplicate when the unique cron index rejected the row.
func InsertOne(ctx context.Context, db DBTX, p InsertParams) error {
	var labels []string
	if len(p.Labels) > 0 {
		labels = p.Labels
	}
	if p.Payload == "" {
		return insertOneQuiet(ctx, db, p, labels)
	}
	rows, err := db.Query(ctx, insertOneSQL,
		idArg(p.ID), p.Kind, p.Queue, p.Priority, p.SerializedParams,
		p.ScheduledAt, p.CreatedAt, labels, p.ConcurrencyKey, p.CronKey, p.CronAt,
		p.Payload, optIDArg(p.BatchID), optIDArg(p.BatchCallbackID))
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	if n == 0 {
		return ErrDuplicate
	}
	return nil
}

func insertOneQuiet(ctx context.Context, db DBTX, p InsertParams, labels []string) error {
	query := insertOneQuietSQL
	if p.CronKey != nil {
		query = insertOneQuietCronSQL
	}
	tag, err := db.Exec(ctx, query,
		idArg(p.ID), p.Kind, p.Queue, p.Priority, p.SerializedParams,
		p.ScheduledAt, p.CreatedAt, labels, p.ConcurrencyKey, p.CronKey, p.CronAt,
		optIDArg(p.BatchID), optIDArg(p.BatchCallbackID))
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrDuplicate
	}
	return nil
}

// idArg sends id as [16]byte: pgx encodes a uuid.UUID through its
// driver.Valuer, as text parsed back, about 20 allocations per id.
func idArg(id uuid.UUID) [16]byte { return id }

// optIDArg is idArg for a nullable id.
func optIDArg(id *uuid.UUID) *[16]byte {
	if id == nil {
		return nil
	}
	b := [16]byte(*id)
	return &b
}

// bulkInputSQL unnests the parallel arrays of bulkColumns, $1 to $11, into
// rows and inserts them; $12 is the creation time of them all.
const bulkInputSQL = `
WITH input AS (
	SELECT * FROM unnest(
		$1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::timestamp[],
		$7::jsonb[], $8::text[], $9::text[], $10::uuid[], $11::uuid[]
	) AS i(id, job_class, queue_name, priority, serialized_params, scheduled_at, labels,
		concurrency_key, unique_key, batch_id, batch_callback_id)
), ins AS (
	INSERT INTO good_jobs (
		id, active_job_id, job_class, queue_name, priority, serialized_params,
		scheduled_at, created_at, updated_at, labels, executions_count,
		concurrency_key, unique_key, batch_id, batch_callback_id
	)
	SELECT id, id, job_class, queue_name, priority, serialized_params,
		scheduled_at, $12, $12,
		CASE WHEN labels IS NULL THEN NULL
			ELSE ARRAY(SELECT jsonb_array_elements_text(labels)) END,
		0, concurrency_key, unique_key, batch_id, batch_callback_id
	FROM input`

var paramRef = regexp.MustCompile(`\$(\d+)`)

// bulkInput is bulkInputSQL with its parameters numbered from $first on.
func bulkInput(first int) string {
	return paramRef.ReplaceAllStringFunc(bulkInputSQL, func(ref string) string {
		n, _ := strconv.Atoi(ref[1:])
		return "$" + strconv.Itoa(n+first-1)
	})
}

// insertManySQL writes every row in one statement and sends one
// notification per queue, carrying the queue's earliest scheduled_at and
// the number of rows, instead of one per job.
var insertManySQL = bulkInput(1) + `
	RETURNING queue_name, scheduled_at
)
SELECT pg_notify('good_job', json_build_object(
	'queue_name', queue_name,
	'scheduled_at', to_char(min(scheduled_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	'count', count(*))::text)
FROM ins GROUP BY queue_name`

// bulkColumns returns ps as the parallel arrays bulkInput takes, then
// the creation time, taken from the first row.
func bulkColumns(ps []InsertParams) []any {
	n := len(ps)
	// [16]byte, not uuid.UUID: pgx encodes a uuid.UUID through its
	// driver.Valuer, as text parsed back, about 20 allocations per id.
	ids := make([][16]byte, n)
	kinds := make([]string, n)
	queues := make([]string, n)
	prios := make([]int32, n)
	params := make([][]byte, n)
	sched := make([]time.Time, n)
	labels := make([][]byte, n)
	concurrency := make([]*string, n)
	unique := make([]*string, n)
	batches := make([]*uuid.UUID, n)
	callbacks := make([]*uuid.UUID, n)
	for i, p := range ps {
		ids[i], kinds[i], queues[i], prios[i] = p.ID, p.Kind, p.Queue, p.Priority
		params[i], sched[i] = p.SerializedParams, p.ScheduledAt
		concurrency[i], unique[i] = p.ConcurrencyKey, p.UniqueKey
		batches[i], callbacks[i] = p.BatchID, p.BatchCallbackID
		if len(p.Labels) > 0 {
			labels[i] = jsonStrings(p.Labels)
		}
	}
	return []any{ids, kinds, queues, prios, params, sched, labels,
		concurrency, unique, batches, callbacks, ps[0].CreatedAt}
}

// InsertMany writes every row in one round trip. CreatedAt is taken from the
// first row; cron columns are not written in bulk, and rows with a unique
// key go through InsertManyUnique.
func InsertMany(ctx context.Context, db DBTX, ps []InsertParams) error {
	if len(ps) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, insertManySQL, bulkColumns(ps)...)
	if err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	return nil
}

// NotifyAll sends one wake-up per payload on the good_job channel in one
// statement, so outside a transaction they share one commit.
func NotifyAll(ctx context.Context, db DBTX, payloads []string) error {
	_, err := db.Exec(ctx, `SELECT pg_notify('good_job', p) FROM unnest($1::text[]) AS p`,
		payloads)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Notify sends one wake-up on the good_job channel through db, so inside a
// transaction it is delivered on commit.
func Notify(ctx context.Context, db DBTX, payload string) error {
	if _, err := db.Exec(ctx, `SELECT pg_notify('good_job', $1)`, payload); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
