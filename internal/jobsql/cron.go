package jobsql

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/jackc/pgx/v5"
	"time"
)

// Keys of good_job_settings rows that GoodJob reads to decide whether a cron
// entry runs. Each value is a JSON array of cron keys: an entry enabled by
// default runs unless listed in cron_keys_disabled, and an entry disabled by
// default runs only when listed in cron_keys_enabled.
const (
	SettingCronKeysEnabled  = "cron_keys_enabled"
	SettingCronKeysDisabled = "cron_keys_disabled"
)

// CronSettings is what good_job_settings says about cron keys.
type CronSettings struct {
	Enabled  []string // cron_keys_enabled
	Disabled []string // cron_keys_disabled
}

// LoadCronSettings reads both cron settings in one query. A missing row is
// an empty list.
func LoadCronSettings(ctx context.Context, db DBTX) (CronSettings, error) {
	var s CronSettings
	rows, err := db.Query(ctx, `SELECT key, value FROM good_job_settings WHERE key IN ($1, $2)`,
		SettingCronKeysEnabled, SettingCronKeysDisabled)
	if err != nil {
		return s, fmt.Errorf("load cron settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var value []byte
		if err := rows.Scan(&key, &value); err != nil {
			return s, fmt.Errorf("load cron settings: %w", err)
		}
		list, err := decodeKeys(value)
		if err != nil {
			return s, fmt.Errorf("load cron settings: %s: %w", key, err)
		}
		if key == SettingCronKeysEnabled {
			s.Enabled = list
		} else {
			s.Disabled = list
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("load cron settings: %w", err)
	}
	return s, nil
}

// decodeKeys reads a setting's value; SQL NULL and JSON null are empty.
func decodeKeys(value []byte) ([]string, error) {
	var list []string
	if len(value) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(value, &list); err != nil {
		return nil, fmt.Errorf("value is not an array of strings: %w", err)
	}
	return list, nil
}

// addCronKeySQL appends $3 to the array under $1, creating the row when it
// is missing and leaving the array alone when $3 is in it already. The
// upsert on the unique key makes concurrent callers safe.
const addCronKeySQL = `
INSERT INTO good_job_settings (id, created_at, updated_at, key, value)
VALUES (gen_random_uuid(), $2, $2, $1, jsonb_build_array($3::text))
ON CONFLICT (key) DO UPDATE SET updated_at = $2, value = CASE
	WHEN good_job_settings.value IS NULL OR jsonb_typeof(good_job_settings.value) <> 'array'
		THEN jsonb_build_array($3::text)
	WHEN good_job_settings.value @> jsonb_build_array($3::text)
		THEN good_job_settings.value
	ELSE good_job_settings.value || jsonb_build_array($3::text)
END`

// removeCronKeySQL drops every $3 from the array under $1, keeping the
// order of the others. A missing row stays missing.
const removeCronKeySQL = `
UPDATE good_job_settings SET updated_at = $2, value = coalesce(
	(SELECT jsonb_agg(e ORDER BY i) FROM jsonb_array_elements(value) WITH ORDINALITY AS a(e, i)
		WHERE e <> to_jsonb($3::text)),
	'[]'::jsonb)
WHERE key = $1 AND jsonb_typeof(value) = 'array'`

// AddCronKey lists cronKey in the setting named setting.
func AddCronKey(ctx context.Context, db DBTX, setting, cronKey string, now time.Time) error {
	if _, err := db.Exec(ctx, addCronKeySQL, setting, now, cronKey); err != nil {
		return fmt.Errorf("add %q to %s: %w", cronKey, setting, err)
	}
	return nil
}

// RemoveCronKey drops cronKey from the setting named setting.
func RemoveCronKey(ctx context.Context, db DBTX, setting, cronKey string, now time.Time) error {
	if _, err := db.Exec(ctx, removeCronKeySQL, setting, now, cronKey); err != nil {
		return fmt.Errorf("remove %q from %s: %w", cronKey, setting, err)
	}
	return nil
}

// LastCronAt returns the latest cron_at of each key that has a row. One
// max() per key lets Postgres read the end of the (cron_key, cron_at) index
// instead of every row of the key.
func LastCronAt(ctx context.Context, db DBTX, keys []string) (map[string]time.Time, error) {
	rows, err := db.Query(ctx, `
SELECT k, (SELECT max(cron_at) FROM good_jobs WHERE cron_key = k)
FROM unnest($1::text[]) AS k`, keys)
	if err != nil {
		return nil, fmt.Errorf("load last cron runs: %w", err)
	}
	defer rows.Close()
	last := make(map[string]time.Time, len(keys))
	for rows.Next() {
		var key string
		var at *time.Time
		if err := rows.Scan(&key, &at); err != nil {
			return nil, fmt.Errorf("load last cron runs: %w", err)
		}
		if at != nil {
			last[key] = at.UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load last cron runs: %w", err)
	}
	return last, nil
}

// CronKeyRow is what good_jobs records of one cron key.
type CronKeyRow struct {
	Key    string
	LastAt time.Time
	Runs   int64
}

// ListCronKeys returns every cron key that good_jobs holds rows for, with
// its latest cron_at and its number of rows, by key.
func ListCronKeys(ctx context.Context, db DBTX) ([]CronKeyRow, error) {
	rows, err := db.Query(ctx, `SELECT cron_key, max(cron_at), count(*) FROM good_jobs
		WHERE cron_key IS NOT NULL AND cron_at IS NOT NULL GROUP BY cron_key ORDER BY cron_key`)
	if err != nil {
		return nil, fmt.Errorf("list cron keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CronKeyRow])
	if err != nil {
		return nil, fmt.Errorf("list cron keys: %w", err)
	}
	return out, nil
}
