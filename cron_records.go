package goodjob

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// CronRecord is what the database holds about one cron key, whichever
// process scheduled it: its latest tick, how many ticks have rows, and its
// enable setting.
type CronRecord struct {
	Key    string
	LastAt *time.Time // latest cron_at; nil if no row has the key
	Runs   int64      // rows in good_jobs with the key
	// Setting is "disabled" when the key is in cron_keys_disabled,
	// "enabled" when it is in cron_keys_enabled, and "" otherwise (the
	// entry's own default applies).
	Setting string
}

// CronRecords lists every cron key found in good_jobs or in the cron
// settings, by key. Unlike CronEntries it needs no Config.Cron, so a tool
// that does not share the workers' configuration can show it.
func (c *Client) CronRecords(ctx context.Context) ([]CronRecord, error) {
	keys, err := jobsql.ListCronKeys(ctx, c.db)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	settings, err := jobsql.LoadCronSettings(ctx, c.db)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	byKey := make(map[string]*CronRecord)
	get := func(key string) *CronRecord {
		if byKey[key] == nil {
			byKey[key] = &CronRecord{Key: key}
		}
		return byKey[key]
	}
	for _, k := range keys {
		r := get(k.Key)
		r.LastAt, r.Runs = &k.LastAt, k.Runs
	}
	for _, k := range settings.Enabled {
		get(k).Setting = "enabled"
	}
	for _, k := range settings.Disabled {
		get(k).Setting = "disabled"
	}
	out := make([]CronRecord, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b CronRecord) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}
