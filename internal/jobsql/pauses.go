package jobsql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PausesKey is the good_job_settings key holding GoodJob's pauses.
const PausesKey = "pauses"

// Pause fields of the pauses setting's JSON object.
const (
	PauseQueues     = "queues"
	PauseJobClasses = "job_classes"
	PauseLabels     = "labels"
)

// Pauses is the value of the pauses setting, as GoodJob stores it.
type Pauses struct {
	Queues     []string `json:"queues"`
	JobClasses []string `json:"job_classes"`
	Labels     []string `json:"labels"`
}

// LoadPauses reads the pauses setting; no row means nothing is paused.
func LoadPauses(ctx context.Context, db DBTX) (Pauses, error) {
	var raw []byte
	err := db.QueryRow(ctx, "SELECT value FROM good_job_settings WHERE key = $1",
		PausesKey).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return Pauses{}, nil
	}
	if err != nil {
		return Pauses{}, fmt.Errorf("load pauses: %w", err)
	}
	var p Pauses
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p); err != nil {
			return Pauses{}, fmt.Errorf("load pauses: decode %s: %w", raw, err)
		}
	}
	return p, nil
}

// setPauseSQL adds ($4 true) or removes ($4 false) one name in one field of
// the pauses object, creating the row when missing, in one statement so
// that concurrent changes to other names are not lost.
const setPauseSQL = `
INSERT INTO good_job_settings AS s (id, created_at, updated_at, key, value)
VALUES (gen_random_uuid(), $1, $1, 'pauses', jsonb_build_object($2::text,
	CASE WHEN $4 THEN jsonb_build_array($3::text) ELSE '[]'::jsonb END))
ON CONFLICT (key) DO UPDATE SET updated_at = $1, value = jsonb_set(
	CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value ELSE '{}'::jsonb END,
	ARRAY[$2::text],
	(SELECT coalesce(jsonb_agg(DISTINCT e ORDER BY e), '[]'::jsonb) FROM (
		SELECT e FROM jsonb_array_elements_text(CASE
			WHEN jsonb_typeof(s.value->$2::text) = 'array' THEN s.value->$2::text
			ELSE '[]'::jsonb END) AS e
		WHERE e <> $3::text
		UNION ALL SELECT $3::text WHERE $4
	) AS names(e)))`

// SetPause pauses or resumes name in field (PauseQueues, PauseJobClasses or
// PauseLabels).
func SetPause(ctx context.Context, db DBTX, now time.Time, field, name string,
	paused bool) error {
	if _, err := db.Exec(ctx, setPauseSQL, now, field, name, paused); err != nil {
		return fmt.Errorf("set pause %s %q: %w", field, name, err)
	}
	return nil
}
