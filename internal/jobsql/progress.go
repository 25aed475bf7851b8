package jobsql

import (
	"errors"

	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"time"

	"github.com/google/uuid"
)

// Keys of serialized_params that hold what a running job reports about
// itself. ActiveJob ignores keys it does not know, so GoodJob for Rails
// reads these rows unharmed.
const (
	ProgressKey = "goodjob_progress"
	ResultKey   = "goodjob_result"
)

// setProgressSQL stores a job's progress. serialized_params is in no index,
// so the update can stay on the row's page (a HOT update).
const setProgressSQL = `
UPDATE good_jobs SET serialized_params = jsonb_set(serialized_params, '{goodjob_progress}',
	jsonb_build_object('percent', $2::float8, 'message', $3::text,
		'updated_at', to_char($4::timestamp, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
WHERE id = $1 AND finished_at IS NULL`

// SetProgress records a running job's progress and reports whether the job
// was found unfinished.
func SetProgress(ctx context.Context, db DBTX, id uuid.UUID, percent float64, message string,
	now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, setProgressSQL, id, percent, message, now)
	if err != nil {
		return false, fmt.Errorf("set progress of job %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// setResultSQL merges a JSON object into the job's result, or replaces the
// result when either side is not an object.
const setResultSQL = `
UPDATE good_jobs SET serialized_params = jsonb_set(serialized_params, '{goodjob_result}',
	CASE WHEN jsonb_typeof(serialized_params->'goodjob_result') = 'object'
		AND jsonb_typeof($2::jsonb) = 'object'
	THEN (serialized_params->'goodjob_result') || $2::jsonb ELSE $2::jsonb END)
WHERE id = $1`

// SetResult stores v (JSON) as the job's result and reports whether the job
// was found.
func SetResult(ctx context.Context, db DBTX, id uuid.UUID, v []byte) (bool, error) {
	tag, err := db.Exec(ctx, setResultSQL, id, v)
	if err != nil {
		return false, fmt.Errorf("set result of job %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// StatusRow is what a job reports about itself to watchers.
type StatusRow struct {
	Kind, State, Error string
	Progress, Result   []byte
}

// GetStatus reads a job's state, progress, result and error, or ErrNoJob.
func GetStatus(ctx context.Context, db DBTX, now time.Time, id uuid.UUID) (StatusRow, error) {
	var s StatusRow
	err := db.QueryRow(ctx, `SELECT coalesce(job_class, ''), `+stateSQL+`,
		coalesce(error, ''), serialized_params->'goodjob_progress',
		serialized_params->'goodjob_result'
		FROM good_jobs WHERE id = $2`, now, id).
		Scan(&s.Kind, &s.State, &s.Error, &s.Progress, &s.Result)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNoJob
	}
	if err != nil {
		return s, fmt.Errorf("get status of job %s: %w", id, err)
	}
	return s, nil
}
