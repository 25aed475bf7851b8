package goodjob_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// settle is how long a test waits for the scheduler to handle a tick.
const settle = 10 * time.Second

// cronAts returns the cron_at of every row of key, oldest first.
func cronAts(t testing.TB, pool *pgxpool.Pool, key string) []time.Time {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT cron_at FROM good_jobs WHERE cron_key = $1 ORDER BY cron_at`, key)
	require.NoError(t, err)
	var ats []time.Time
	for rows.Next() {
		var at time.Time
		require.NoError(t, rows.Scan(&at))
		ats = append(ats, at.UTC())
	}
	require.NoError(t, rows.Err())
	return ats
}

// minutes returns every whole minute from first to last, in UTC.
func minutes(first, last time.Time) []time.Time {
	var ts []time.Time
	for at := first; !at.After(last); at = at.Add(time.Minute) {
		ts = append(ts, at.UTC())
	}
	return ts
}

// cronInfo returns c's info about key.
func cronInfo(t testing.TB, c *goodjob.Client, key string) goodjob.CronEntryInfo {
	t.Helper()
	infos, err := c.CronEntries(t.Context())
	require.NoError(t, err)
	for _, info := range infos {
		if info.Key == key {
			return info
		}
	}
	t.Fatalf("no cron entry %q", key)
	panic("unreachable")
}

// fakeClient makes a Client whose clock is clk.
func fakeClient(t testing.TB, pool *pgxpool.Pool, clk *goodjob.FakeClock,
	cfg goodjob.Config) *goodjob.Client {
	t.Helper()
	c := newClient(t, pool, cfg)
	goodjob.UseFakeClock(c, clk)
	return c
}

// advance moves clk to at and waits until the n cron entries slept again,
// which they do only after handling the ticks due by at.
func advance(t testing.TB, clk *goodjob.FakeClock, at time.Time, n int) {
	t.Helper()
	clk.Set(at)
	require.NoError(t, clk.WaitSleepers(n, settle))
}

func TestNew_CronErrors(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	tests := []struct {
		name   string
		entry  goodjob.CronEntry
		reason string
	}{
		{"Empty", goodjob.CronEntry{Cron: " "}, "expression is empty"},
		{"ThreeFields", goodjob.CronEntry{Cron: "* * *"}, "expected 5 to 6 fields"},
		{"SevenFields", goodjob.CronEntry{Cron: "0 0 0 * * * *"}, "expected 5 to 6 fields"},
		{"MinuteOutOfRange", goodjob.CronEntry{Cron: "61 * * * *"}, "above maximum"},
		{"BadStep", goodjob.CronEntry{Cron: "*/0 * * * *"}, "step of range should be"},
		{"UnknownDescriptor", goodjob.CronEntry{Cron: "@fortnightly"}, "unrecognized descriptor"},
		{"EveryNoDuration", goodjob.CronEntry{Cron: "@every soon"}, `invalid duration "soon"`},
		{"EverySubSecond", goodjob.CronEntry{Cron: "@every 500ms"}, "whole number of seconds"},
		{"EveryFraction", goodjob.CronEntry{Cron: "@every 1500ms"}, "whole number of seconds"},
		{"EveryNegative", goodjob.CronEntry{Cron: "@every -5s"}, "whole number of seconds"},
		{"UnknownZone", goodjob.CronEntry{Cron: "CRON_TZ=Mars/Olympus 0 6 * * *"},
			"provided bad location Mars/Olympus"},
		{"NeverFires", goodjob.CronEntry{Cron: "0 0 30 2 *"}, "matches no time"},
		{"NilArgs", goodjob.CronEntry{Cron: "@hourly", Args: nil}, "Args is nil"},
		{"EmptyKind", goodjob.CronEntry{Cron: "@hourly", Args: emptyKindArgs{}}, "empty Kind()"},
		{"BadQueue", goodjob.CronEntry{Cron: "@hourly", Args: noopArgs{},
			Options: []goodjob.EnqueueOption{goodjob.Queue("a b")}}, "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.entry.Args == nil && tt.name != "NilArgs" {
				tt.entry.Args = noopArgs{}
			}
			_, err := goodjob.New(db.Pool, goodjob.Config{
				Cron: map[string]goodjob.CronEntry{"nightly": tt.entry},
			})
			require.ErrorIs(t, err, goodjob.ErrInvalidCron)
			require.ErrorContains(t, err, `Config.Cron["nightly"]`)
			require.ErrorContains(t, err, tt.reason)
		})
	}

	_, err := goodjob.New(db.Pool, goodjob.Config{CronGracePeriod: -time.Second})
	require.ErrorIs(t, err, goodjob.ErrInvalidCron)
	require.ErrorContains(t, err, "CronGracePeriod")
}

// emptyKindArgs has no kind, which enqueue rejects.
type emptyKindArgs struct{}

func (emptyKindArgs) Kind() string { return "" }

func TestNew_CronAccepts(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	now := time.Date(2025, 6, 1, 10, 7, 30, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	tests := []struct {
		expr string
		next time.Time
	}{
		{"*/15 * * * *", time.Date(2025, 6, 1, 10, 15, 0, 0, time.UTC)},
		{"45 */15 * * * *", time.Date(2025, 6, 1, 10, 15, 45, 0, time.UTC)},
		{"@hourly", time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)},
		{"@every 90s", time.Date(2025, 6, 1, 10, 9, 0, 0, time.UTC)},
		{"@every 15m", time.Date(2025, 6, 1, 10, 15, 0, 0, time.UTC)},
		{"CRON_TZ=Europe/Paris 0 6 * * *", time.Date(2025, 6, 2, 6, 0, 0, 0, paris)},
		{"TZ=Europe/Paris @daily", time.Date(2025, 6, 2, 0, 0, 0, 0, paris)},
	}
	for _, tt := range tests {
		c := fakeClient(t, db.Pool, goodjob.NewFakeClock(now), goodjob.Config{
			Cron: map[string]goodjob.CronEntry{"k": {Cron: tt.expr, Args: noopArgs{}}},
		})
		info := cronInfo(t, c, "k")
		require.True(t, tt.next.Equal(info.NextAt), "%s: next %s, want %s",
			tt.expr, info.NextAt, tt.next)
	}
}

func TestCron_ThreeClientsOneJobPerTick(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	cfg := goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"tick": {Cron: "@every 1s", Args: noopArgs{}, Description: "every second"},
	}}
	clients := make([]*goodjob.Client, 3)
	started := time.Now()
	for i := range clients {
		clients[i] = newClient(t, db.Pool, cfg)
		start(t, clients[i])
	}
	<-time.After(5 * time.Second) // the test's duration, not a synchronisation
	stopping := time.Now()
	for _, c := range clients {
		ctx, cancel := context.WithTimeout(t.Context(), settle)
		require.NoError(t, c.Stop(ctx))
		cancel()
	}

	ats := cronAts(t, db.Pool, "tick")
	require.GreaterOrEqual(t, len(ats), 4, "ticks: %v", ats)
	for i := 1; i < len(ats); i++ {
		require.Equal(t, time.Second, ats[i].Sub(ats[i-1]), "gap or duplicate: %v", ats)
	}
	require.Zero(t, ats[0].Nanosecond(), "ticks fall on whole seconds")
	require.WithinRange(t, ats[0], started, started.Add(2*time.Second), "first tick")
	last := ats[len(ats)-1]
	require.WithinRange(t, last, stopping.Add(-2*time.Second), stopping.Add(2*time.Second))

	var enqueued, duplicates int64
	for _, c := range clients {
		info := cronInfo(t, c, "tick")
		enqueued += info.Enqueued
		duplicates += info.Duplicates
	}
	require.Equal(t, int64(len(ats)), enqueued, "each tick was enqueued by exactly one client")
	require.GreaterOrEqual(t, duplicates, int64(len(ats)), "the other clients tried the ticks too")
	t.Logf("%d ticks, %d enqueued, %d duplicates swallowed", len(ats), enqueued, duplicates)
}

func TestCron_TimeZoneAcrossDST(t *testing.T) {
	t.Parallel()
	utc := func(mo time.Month, d, h, m int) time.Time {
		return time.Date(2025, mo, d, h, m, 0, 0, time.UTC)
	}
	// Paris is UTC+1 in winter and UTC+2 in summer; in 2025 summer time
	// starts on 30 March at 01:00 UTC and ends on 26 October at 01:00 UTC.
	tests := []struct {
		name  string
		expr  string
		start time.Time
		ticks []time.Time // UTC
		wall  []string    // the same ticks in Paris
	}{
		{"SpringForward", "0 9 * * *", utc(3, 28, 12, 0),
			[]time.Time{utc(3, 29, 8, 0), utc(3, 30, 7, 0), utc(3, 31, 7, 0)},
			[]string{"03-29 09:00 CET", "03-30 09:00 CEST", "03-31 09:00 CEST"}},
		{"FallBack", "0 9 * * *", utc(10, 24, 12, 0),
			[]time.Time{utc(10, 25, 7, 0), utc(10, 26, 8, 0), utc(10, 27, 8, 0)},
			[]string{"10-25 09:00 CEST", "10-26 09:00 CET", "10-27 09:00 CET"}},
		{"RepeatedHourFiresOnce", "30 2 * * *", utc(10, 25, 12, 0),
			[]time.Time{utc(10, 26, 0, 30), utc(10, 27, 1, 30)},
			[]string{"10-26 02:30 CEST", "10-27 02:30 CET"}},
		{"HourlyFiresThroughRepeatedHour", "30 * * * *", utc(10, 25, 23, 45),
			[]time.Time{utc(10, 26, 0, 30), utc(10, 26, 1, 30), utc(10, 26, 2, 30)},
			[]string{"10-26 02:30 CEST", "10-26 02:30 CET", "10-26 03:30 CET"}},
	}
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testdb.New(t)
			clk := goodjob.NewFakeClock(tt.start)
			c := fakeClient(t, db.Pool, clk, goodjob.Config{Cron: map[string]goodjob.CronEntry{
				"report": {Cron: "CRON_TZ=Europe/Paris " + tt.expr, Args: noopArgs{}},
			}})
			start(t, c)
			require.NoError(t, clk.WaitSleepers(1, settle))
			for i, tick := range tt.ticks {
				next := cronInfo(t, c, "report").NextAt
				require.True(t, tick.Equal(next), "next %s, want %s", next, tick)
				require.Equal(t, tt.wall[i], next.In(paris).Format("01-02 15:04 MST"))
				advance(t, clk, tick, 1)
			}
			require.Equal(t, tt.ticks, cronAts(t, db.Pool, "report"))
		})
	}
}

func TestCron_GracePeriodBackfill(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	t0 := time.Date(2025, 1, 1, 10, 0, 30, 0, time.UTC)
	clk := goodjob.NewFakeClock(t0)
	c := fakeClient(t, db.Pool, clk, goodjob.Config{
		CronGracePeriod: 10 * time.Minute,
		Cron: map[string]goodjob.CronEntry{
			"minutely": {Cron: "* * * * *", Args: noopArgs{}},
		},
	})
	at := func(h, m int) time.Time { return time.Date(2025, 1, 1, h, m, 0, 0, time.UTC) }

	// The first start backfills the ten ticks of the grace period.
	start(t, c)
	require.NoError(t, clk.WaitSleepers(1, settle))
	require.Equal(t, minutes(at(9, 51), at(10, 0)), cronAts(t, db.Pool, "minutely"))
	for m := 1; m <= 3; m++ {
		advance(t, clk, at(10, m), 1)
	}
	require.NoError(t, c.Stop(t.Context()))
	require.Equal(t, int64(13), cronInfo(t, c, "minutely").Enqueued)

	// Down for three ticks; the restart enqueues them and only them.
	clk.Set(at(10, 6).Add(30 * time.Second))
	start(t, c)
	require.NoError(t, clk.WaitSleepers(1, settle))
	require.Equal(t, minutes(at(9, 51), at(10, 6)), cronAts(t, db.Pool, "minutely"))
	info := cronInfo(t, c, "minutely")
	require.Equal(t, int64(16), info.Enqueued)
	require.Equal(t, int64(7), info.Duplicates, "10:57 to 10:03 existed already")
	require.Equal(t, at(10, 6), *info.LastAt)
}

func TestCron_NoGracePeriodSkipsMissedTicks(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	clk := goodjob.NewFakeClock(time.Date(2025, 1, 1, 10, 0, 30, 0, time.UTC))
	c := fakeClient(t, db.Pool, clk, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"minutely": {Cron: "* * * * *", Args: noopArgs{}},
	}})
	start(t, c)
	require.NoError(t, clk.WaitSleepers(1, settle))
	require.Empty(t, cronAts(t, db.Pool, "minutely"))
	advance(t, clk, time.Date(2025, 1, 1, 10, 1, 0, 0, time.UTC), 1)
	require.Len(t, cronAts(t, db.Pool, "minutely"), 1)
}

// cronSetting returns the value of a good_job_settings row, nil if missing.
func cronSetting(t testing.TB, pool *pgxpool.Pool, key string) []string {
	t.Helper()
	var keys []string
	err := pool.QueryRow(context.Background(),
		`SELECT value FROM good_job_settings WHERE key = $1`, key).Scan(&keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	require.NoError(t, err)
	return keys
}

func TestCron_EnableDisable(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := t.Context()
	cfg := goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"on":  {Cron: "* * * * *", Args: noopArgs{N: 1}},
		"off": {Cron: "* * * * *", Args: noopArgs{N: 2}, DisabledByDefault: true},
	}}
	at := func(m int) time.Time { return time.Date(2025, 1, 1, 10, m, 0, 0, time.UTC) }
	clk := goodjob.NewFakeClock(at(0).Add(30 * time.Second))
	worker := fakeClient(t, db.Pool, clk, cfg)
	start(t, worker)
	require.NoError(t, clk.WaitSleepers(2, settle))
	admin := newClient(t, db.Pool, cfg) // another process, not started: the dashboard's

	advance(t, clk, at(1), 2)
	require.Equal(t, []time.Time{at(1)}, cronAts(t, db.Pool, "on"))
	require.Empty(t, cronAts(t, db.Pool, "off"), "disabled by default")

	// Flip both; the running scheduler reads the settings at the next tick.
	require.NoError(t, admin.SetCronEnabled(ctx, "on", false))
	require.NoError(t, admin.SetCronEnabled(ctx, "on", false))
	require.NoError(t, admin.SetCronEnabled(ctx, "off", true))
	require.Equal(t, []string{"on"}, cronSetting(t, db.Pool, "cron_keys_disabled"))
	require.Equal(t, []string{"off"}, cronSetting(t, db.Pool, "cron_keys_enabled"))
	require.False(t, cronInfo(t, worker, "on").Enabled)
	require.True(t, cronInfo(t, worker, "off").Enabled)
	advance(t, clk, at(2), 2)
	require.Equal(t, []time.Time{at(1)}, cronAts(t, db.Pool, "on"))
	require.Equal(t, []time.Time{at(2)}, cronAts(t, db.Pool, "off"))

	// Back again, this time written as GoodJob for Rails would leave it.
	_, err := db.Pool.Exec(ctx, `UPDATE good_job_settings SET value = '[]'`)
	require.NoError(t, err)
	advance(t, clk, at(3), 2)
	require.Equal(t, []time.Time{at(1), at(3)}, cronAts(t, db.Pool, "on"))
	require.Equal(t, []time.Time{at(2)}, cronAts(t, db.Pool, "off"))

	require.NoError(t, admin.SetCronEnabled(ctx, "on", true))
	require.Equal(t, []string{}, cronSetting(t, db.Pool, "cron_keys_disabled"))
	require.ErrorIs(t, admin.SetCronEnabled(ctx, "nope", true), goodjob.ErrUnknownCronKey)
}

func TestClient_EnqueueCronNow(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := t.Context()
	now := time.Date(2025, 1, 1, 10, 0, 30, 123456000, time.UTC)
	c := fakeClient(t, db.Pool, goodjob.NewFakeClock(now), goodjob.Config{
		Cron: map[string]goodjob.CronEntry{"off": {
			Cron: "@daily", Args: otherArgs{Name: "x"}, DisabledByDefault: true,
			Options:     []goodjob.EnqueueOption{goodjob.Queue("low"), goodjob.Priority(7)},
			Description: "daily x",
		}},
	})

	row, err := c.EnqueueCronNow(ctx, "off")
	require.NoError(t, err, "enqueue now ignores the enabled flag")
	require.Equal(t, "off", row.CronKey)
	require.Equal(t, now, *row.CronAt)
	s := loadJob(t, db.Pool, row.ID)
	require.Equal(t, "low", s.Queue)
	require.EqualValues(t, 7, *s.Priority)
	require.Equal(t, []time.Time{now}, cronAts(t, db.Pool, "off"))

	info := cronInfo(t, c, "off")
	require.Equal(t, goodjob.CronEntryInfo{
		Key: "off", Cron: "@daily", Description: "daily x", Kind: "OtherJob",
		NextAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), LastAt: &now,
	}, info)

	_, err = c.EnqueueCronNow(ctx, "nope")
	require.ErrorIs(t, err, goodjob.ErrUnknownCronKey)

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = c.EnqueueCronNowTx(ctx, tx, "off")
	require.ErrorContains(t, err, "duplicate", "same clock reading, same cron_at")
	require.NoError(t, tx.Rollback(ctx))
}

func TestClient_SetCronEnabledTx(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := t.Context()
	c := newClient(t, db.Pool, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"k": {Cron: "@hourly", Args: noopArgs{}},
	}})

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, c.SetCronEnabledTx(ctx, tx, "k", false))
	require.NoError(t, tx.Rollback(ctx))
	require.True(t, cronInfo(t, c, "k").Enabled, "rolled back")

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, c.SetCronEnabledTx(ctx, tx, "k", false))
	require.NoError(t, tx.Commit(ctx))
	require.False(t, cronInfo(t, c, "k").Enabled, "committed")
	require.ErrorIs(t, c.SetCronEnabledTx(ctx, nil, "k", true), goodjob.ErrInvalidArgs)
}

func TestCron_JobSeesKeyAndTick(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := t.Context()
	at := func(m, s int) time.Time { return time.Date(2025, 1, 1, 10, m, s, 0, time.UTC) }
	clk := goodjob.NewFakeClock(at(0, 30))
	type seen struct {
		job  *goodjob.Job[noopArgs]
		info *goodjob.JobInfo
	}
	jobs := make(chan seen, 4)
	infos := make(chan *goodjob.JobInfo, 4)
	c := fakeClient(t, db.Pool, clk, goodjob.Config{
		Cron: map[string]goodjob.CronEntry{"minutely": {Cron: "* * * * *", Args: noopArgs{N: 1}}},
		Middleware: []goodjob.Middleware{
			func(ctx context.Context, info *goodjob.JobInfo, next func(context.Context) error) error {
				infos <- info
				return next(ctx)
			},
		},
	})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(_ context.Context, j *goodjob.Job[noopArgs]) error {
			jobs <- seen{job: j, info: <-infos}
			return nil
		})))
	start(t, c)
	require.NoError(t, clk.WaitSleepers(1, settle))

	advance(t, clk, at(1, 0), 1)
	got := waitFor(t, jobs, settle, "the cron job")
	require.Equal(t, "minutely", got.job.CronKey)
	require.Equal(t, at(1, 0), got.job.CronAt)
	require.Equal(t, "minutely", got.info.CronKey)
	require.Equal(t, at(1, 0), got.info.CronAt)

	_, err := c.Enqueue(ctx, noopArgs{N: 2})
	require.NoError(t, err)
	got = waitFor(t, jobs, settle, "the plain job")
	require.Equal(t, 2, got.job.Args.N)
	require.Empty(t, got.job.CronKey)
	require.True(t, got.job.CronAt.IsZero(), "CronAt %s", got.job.CronAt)
	require.Empty(t, got.info.CronKey)
	require.True(t, got.info.CronAt.IsZero(), "CronAt %s", got.info.CronAt)

	clk.Set(at(1, 30).Add(123456 * time.Microsecond))
	row, err := c.EnqueueCronNow(ctx, "minutely")
	require.NoError(t, err)
	got = waitFor(t, jobs, settle, "the job of EnqueueCronNow")
	require.Equal(t, row.ID, got.job.ID)
	require.Equal(t, "minutely", got.job.CronKey)
	require.Equal(t, *row.CronAt, got.job.CronAt)
	require.Equal(t, at(1, 30).Add(123456*time.Microsecond), got.job.CronAt)
}
