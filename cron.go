package goodjob

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// CronEntry is a recurring job of [Config].Cron. At every tick of Cron,
// every started Client tries to enqueue Args with cron_key set to the
// entry's key and cron_at set to the tick; GoodJob's unique index on the
// pair lets exactly one of them win, so there is no leader to elect.
type CronEntry struct {
	// Cron is when the job runs, in robfig/cron syntax: five fields
	// ("*/15 * * * *"), six with leading seconds ("30 0 2 * * *"), a
	// descriptor ("@hourly", "@daily", "@every 90s"), optionally prefixed
	// with CRON_TZ=Zone or TZ=Zone. Without a prefix the fields are UTC, so
	// processes on hosts in different zones agree on the ticks. An @every
	// interval is a whole number of seconds and its ticks are multiples of
	// it since the zero time, again so that every process picks the same.
	//
	// In a zone with summer time, a fixed time of day in the hour that the
	// change back repeats fires once, at its first occurrence, as in cron
	// daemons; schedules whose hour field is "*" fire through both hours.
	//
	// BUG: a time of day that the change to summer time skips does not fire
	// that day ("CRON_TZ=Europe/Paris 30 2 * * *" skips the last Sunday of
	// March), which is robfig/cron's behaviour; cron daemons fire it right
	// after the change.
	Cron string

	// Args is the job to enqueue at each tick. Required.
	Args Args

	// Description is shown by [Client.CronEntries] and the dashboard.
	Description string

	// Options apply to every enqueue, after the kind's default options.
	Options []EnqueueOption

	// DisabledByDefault keeps the entry from running until it is enabled
	// with [Client.SetCronEnabled], as GoodJob's enabled_by_default: false.
	DisabledByDefault bool
}

// CronEntryInfo describes one cron entry, for dashboards and tools.
type CronEntryInfo struct {
	Key         string
	Cron        string
	Description string
	Kind        string
	Enabled     bool       // per good_job_settings and DisabledByDefault
	NextAt      time.Time  // the next tick after now, UTC
	LastAt      *time.Time // the latest cron_at in good_jobs, UTC; nil if none
	// Enqueued counts ticks this Client enqueued since New.
	Enqueued int64
	// Duplicates counts ticks this Client found already enqueued by another
	// process (or by an earlier start within the grace period), and ticks
	// skipped because the entry's Unique key was held.
	Duplicates int64
}

// Errors about cron entries.
var (
	// ErrInvalidCron wraps every error New returns about Config.Cron and
	// Config.CronGracePeriod.
	ErrInvalidCron = errors.New("goodjob: invalid cron config")
	// ErrUnknownCronKey is returned for a key that Config.Cron lacks.
	ErrUnknownCronKey = errors.New("goodjob: unknown cron key")
)

// cronParser accepts five fields, an optional leading seconds field,
// descriptors and CRON_TZ= / TZ= prefixes.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron turns an expression into a schedule that gives the same ticks
// in every process.
func parseCron(expr string) (cron.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("expression is empty")
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	switch s := sched.(type) {
	case cron.ConstantDelaySchedule:
		return parseEvery(expr)
	case *cron.SpecSchedule:
		if s.Location == time.Local {
			s.Location = time.UTC
		}
		sched = zonedSchedule{s}
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, errors.New("expression matches no time in the next five years")
	}
	return sched, nil
}

// parseEvery reads "@every d" itself: robfig rounds intervals below one
// second up and fractions down, and counts from the time it is asked,
// which would give each process different ticks.
func parseEvery(expr string) (cron.Schedule, error) {
	text := strings.TrimSpace(expr[strings.Index(expr, "@every")+len("@every"):])
	d, err := time.ParseDuration(text)
	if err != nil {
		return nil, fmt.Errorf("interval %q: %w", text, err)
	}
	if d < time.Second || d%time.Second != 0 {
		return nil, fmt.Errorf("interval %s is not a whole number of seconds", d)
	}
	return everySchedule(d), nil
}

// everySchedule ticks at the multiples of its interval since the zero time.
type everySchedule time.Duration

// Next returns the first multiple after t.
func (e everySchedule) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.UTC().Truncate(d).Add(d)
}

// zonedSchedule fires a time of day that a change back from summer time
// repeats only at its first occurrence.
type zonedSchedule struct{ *cron.SpecSchedule }

// starBit marks a field of a cron.SpecSchedule written as "*".
const starBit = 1 << 63

// Next returns the first tick after t, skipping repeated wall-clock times.
func (z zonedSchedule) Next(t time.Time) time.Time {
	n := z.SpecSchedule.Next(t)
	if z.Hour&starBit != 0 {
		return n
	}
	for !n.IsZero() && repeatsWallClock(n, z.Location) {
		n = z.SpecSchedule.Next(n)
	}
	return n
}

// repeatsWallClock reports whether n reads, in loc, the same wall-clock time
// as an instant of the previous three hours, which happens only in the
// hour after a change back from summer time.
func repeatsWallClock(n time.Time, loc *time.Location) bool {
	_, off := n.In(loc).Zone()
	_, before := n.Add(-3 * time.Hour).In(loc).Zone()
	if before <= off {
		return false
	}
	earlier := n.Add(-time.Duration(before-off) * time.Second).In(loc)
	_, earlierOff := earlier.Zone()
	return earlierOff == before &&
		earlier.Format(time.DateTime) == n.In(loc).Format(time.DateTime)
}

// cronEntry is a parsed entry with this Client's counters.
type cronEntry struct {
	key      string
	entry    CronEntry
	schedule cron.Schedule
	stats    cronStats
}

// parseCronEntries validates Config.Cron and returns its entries sorted by
// key. prepare checks that the args and options would enqueue.
func parseCronEntries(entries map[string]CronEntry,
	prepare func(Args, []EnqueueOption) error) ([]*cronEntry, error) {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parsed := make([]*cronEntry, 0, len(keys))
	for _, key := range keys {
		e, err := parseCronEntry(key, entries[key], prepare)
		if err != nil {
			return nil, fmt.Errorf("%w: Config.Cron[%q]: %w", ErrInvalidCron, key, err)
		}
		parsed = append(parsed, e)
	}
	return parsed, nil
}

func parseCronEntry(key string, ce CronEntry,
	prepare func(Args, []EnqueueOption) error) (*cronEntry, error) {
	if strings.TrimSpace(key) == "" {
		return nil, errors.New("key is empty")
	}
	sched, err := parseCron(ce.Cron)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", ce.Cron, err)
	}
	if isNil(ce.Args) {
		return nil, errors.New("Args is nil")
	}
	if err := prepare(ce.Args, ce.Options); err != nil {
		return nil, err
	}
	return &cronEntry{key: key, entry: ce, schedule: sched}, nil
}

// enabled reads whether e runs, the way GoodJob reads it.
func (e *cronEntry) enabled(s jobsql.CronSettings) bool {
	if e.entry.DisabledByDefault {
		return slices.Contains(s.Enabled, e.key)
	}
	return !slices.Contains(s.Disabled, e.key)
}

// CronEntries lists Config.Cron by key, with each entry's next tick, its
// latest enqueued run and whether it is enabled.
func (c *Client) CronEntries(ctx context.Context) ([]CronEntryInfo, error) {
	settings, err := jobsql.LoadCronSettings(ctx, c.db)
	if err != nil {
		return nil, fmt.Errorf("goodjob: cron entries: %w", err)
	}
	keys := make([]string, len(c.cron.entries))
	for i, e := range c.cron.entries {
		keys[i] = e.key
	}
	last, err := jobsql.LastCronAt(ctx, c.db, keys)
	if err != nil {
		return nil, fmt.Errorf("goodjob: cron entries: %w", err)
	}
	now := c.now()
	infos := make([]CronEntryInfo, len(c.cron.entries))
	for i, e := range c.cron.entries {
		infos[i] = CronEntryInfo{
			Key: e.key, Cron: e.entry.Cron, Description: e.entry.Description,
			Kind: e.entry.Args.Kind(), Enabled: e.enabled(settings),
			NextAt:   e.schedule.Next(now).UTC(),
			Enqueued: e.stats.enqueued.Load(), Duplicates: e.stats.duplicates.Load(),
		}
		if at, ok := last[e.key]; ok {
			infos[i].LastAt = &at
		}
	}
	return infos, nil
}

// EnqueueCronNow enqueues the entry's job at once, with cron_at set to now,
// whether the entry is enabled or not, as the dashboard's "enqueue now".
// For an entry with a [Unique] option whose key is held, it writes nothing
// and returns the holder with Duplicate set.
func (c *Client) EnqueueCronNow(ctx context.Context, key string) (*JobRow, error) {
	row, err := c.enqueueCronNow(ctx, c.db, key)
	if err != nil {
		return nil, err
	}
	if !row.Duplicate {
		c.wakeLocal(row.Queue, row.ScheduledAt)
	}
	return row, nil
}

// EnqueueCronNowTx is EnqueueCronNow inside the caller's transaction.
func (c *Client) EnqueueCronNowTx(ctx context.Context, tx pgx.Tx, key string) (*JobRow, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: EnqueueCronNowTx with a nil transaction", ErrInvalidArgs)
	}
	return c.enqueueCronNow(ctx, tx, key)
}

func (c *Client) enqueueCronNow(ctx context.Context, db jobsql.DBTX, key string) (*JobRow, error) {
	e := c.cron.byKey[key]
	if e == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCronKey, key)
	}
	row, err := c.cron.insert(ctx, db, e, c.now())
	if err != nil {
		return nil, fmt.Errorf("goodjob: enqueue cron %q now: %w", key, err)
	}
	return row, nil
}

// SetCronEnabled enables or disables the entry key in every process that
// shares the database, Rails ones included. Running schedulers read the
// setting at each tick.
func (c *Client) SetCronEnabled(ctx context.Context, key string, enabled bool) error {
	return c.setCronEnabled(ctx, c.db, key, enabled)
}

// SetCronEnabledTx is SetCronEnabled inside the caller's transaction.
func (c *Client) SetCronEnabledTx(ctx context.Context, tx pgx.Tx, key string,
	enabled bool) error {
	if tx == nil {
		return fmt.Errorf("%w: SetCronEnabledTx with a nil transaction", ErrInvalidArgs)
	}
	return c.setCronEnabled(ctx, tx, key, enabled)
}

// setCronEnabled writes the setting exactly as GoodJob does: entries on by
// default are listed in cron_keys_disabled while off, entries off by
// default are listed in cron_keys_enabled while on.
func (c *Client) setCronEnabled(ctx context.Context, db jobsql.DBTX, key string,
	enabled bool) error {
	e := c.cron.byKey[key]
	if e == nil {
		return fmt.Errorf("%w: %q", ErrUnknownCronKey, key)
	}
	setting, listed := jobsql.SettingCronKeysDisabled, !enabled
	if e.entry.DisabledByDefault {
		setting, listed = jobsql.SettingCronKeysEnabled, enabled
	}
	now := c.now().UTC()
	var err error
	if listed {
		err = jobsql.AddCronKey(ctx, db, setting, key, now)
	} else {
		err = jobsql.RemoveCronKey(ctx, db, setting, key, now)
	}
	if err != nil {
		return fmt.Errorf("goodjob: set cron %q enabled=%t: %w", key, enabled, err)
	}
	return nil
}
