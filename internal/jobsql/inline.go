package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// bringForwardSQL moves the earliest waiting job of kinds ($1) scheduled
// after now ($2) to now, so that a claim can take it. It skips jobs a worker holds and rows another transaction
// locks, as the claim does.
const bringForwardSQL = `
UPDATE good_jobs SET scheduled_at = $2, updated_at = $2
WHERE id = (
	SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL AND scheduled_at > $2
		AND job_class = ANY($1::text[])
	ORDER BY scheduled_at, priority ASC NULLS LAST, id
	LIMIT 1
	FOR UPDATE SKIP LOCKED
)
RETURNING id`

// BringForward moves the earliest job of kinds scheduled after now to now
// and returns its id. It reports false when no such job waits.
func BringForward(ctx context.Context, db DBTX, kinds []string, now time.Time) ([16]byte,
	bool, error) {
	var id [16]byte
	err := db.QueryRow(ctx, bringForwardSQL, kinds, now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("bring the next scheduled job forward: %w", err)
	}
	return id, true, nil
}
