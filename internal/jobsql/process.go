package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// RegisterProcess inserts or refreshes this process's good_job_processes row.
func RegisterProcess(ctx context.Context, db DBTX, id uuid.UUID, now time.Time,
	state []byte) error {
	_, err := db.Exec(ctx, `
INSERT INTO good_job_processes (id, created_at, updated_at, state)
VALUES ($1, $2, $2, $3)
ON CONFLICT (id) DO UPDATE SET updated_at = $2, state = $3`, id, now, state)
	if err != nil {
		return fmt.Errorf("register process %s: %w", id, err)
	}
	return nil
}

// Heartbeat moves the process's updated_at forward. It reports false when
// the row is gone, which happens when another process judged this one dead.
func Heartbeat(ctx context.Context, db DBTX, id uuid.UUID, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx,
		`UPDATE good_job_processes SET updated_at = $2 WHERE id = $1`, id, now)
	if err != nil {
		return false, fmt.Errorf("heartbeat process %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeregisterProcess deletes the process's row.
func DeregisterProcess(ctx context.Context, db DBTX, id uuid.UUID) error {
	if _, err := db.Exec(ctx, `DELETE FROM good_job_processes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("deregister process %s: %w", id, err)
	}
	return nil
}
