package jobsql

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Copier writes rows with COPY: a pool, a connection or a transaction.
type Copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string,
		src pgx.CopyFromSource) (int64, error)
}

// copyColumns are the good_jobs columns CopyMany writes.
var copyColumns = []string{
	"id", "active_job_id", "job_class", "queue_name", "priority", "serialized_params",
	"scheduled_at", "created_at", "updated_at", "labels", "executions_count",
	"concurrency_key", "batch_id", "batch_callback_id",
}

// CopyMany writes every row with one COPY in PostgreSQL's binary format,
// which the server stores without parsing arrays or an unnest, and sends no
// wake-up: the caller does. Like InsertMany, it writes no cron or unique
// columns. Outside a transaction the COPY is atomic on its own.
func CopyMany(ctx context.Context, db Copier, ps []InsertParams) error {
	if len(ps) == 0 {
		return nil
	}
	var zero int32
	src := pgx.CopyFromSlice(len(ps), func(i int) ([]any, error) {
		p := &ps[i]
		var labels []string
		if len(p.Labels) > 0 {
			labels = p.Labels
		}
		id := idArg(p.ID)
		return []any{id, id, p.Kind, p.Queue, p.Priority, p.SerializedParams,
			p.ScheduledAt, p.CreatedAt, p.CreatedAt, labels, zero,
			p.ConcurrencyKey, optIDArg(p.BatchID), optIDArg(p.BatchCallbackID)}, nil
	})
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"good_jobs"}, copyColumns, src); err != nil {
		return fmt.Errorf("copy jobs: %w", err)
	}
	return nil
}
