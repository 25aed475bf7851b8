package goodjob

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Process is one registered worker process, as [Client.Processes] lists it.
type Process struct {
	ID          uuid.UUID
	Hostname    string
	PID         int
	Queues      string
	Threads     int
	StartedAt   time.Time
	HeartbeatAt time.Time
	// State is the process row's JSON state, as the process wrote it; GoodJob
	// for Rails processes write their own fields.
	State json.RawMessage
	// Alive is false for a process the next recovery sweep will reap: one
	// of this library's whose heartbeat is older than Config.ProcessLease,
	// or a GoodJob for Rails one judged by GoodJob's own rules (see
	// README's crash recovery section).
	Alive bool
}

// Processes lists the processes registered in good_job_processes, newest
// first, including those of GoodJob for Rails sharing the database.
func (c *Client) Processes(ctx context.Context) ([]Process, error) {
	now := c.now().UTC()
	rows, err := jobsql.ListProcesses(ctx, c.db, jobsql.RecoverParams{
		StaleBefore: now.Add(-c.cfg.ProcessLease), Scheduler: processScheduler,
		ForeignStaleBefore: now.Add(-foreignProcessExpiry)})
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	out := make([]Process, len(rows))
	for i, r := range rows {
		var s struct {
			Hostname string `json:"hostname"`
			PID      int    `json:"pid"`
			Queues   string `json:"queues"`
			Threads  int    `json:"threads"`
		}
		// A state this library did not write may lack or mistype fields;
		// the row is still listed.
		_ = json.Unmarshal(r.State, &s)
		out[i] = Process{
			ID: r.ID, Hostname: s.Hostname, PID: s.PID, Queues: s.Queues, Threads: s.Threads,
			StartedAt: r.CreatedAt, HeartbeatAt: r.UpdatedAt, State: r.State, Alive: !r.Gone,
		}
	}
	return out, nil
}

// MinuteCount is how many jobs finished in one minute: succeeded, and
// discarded (retries exhausted or discarded on purpose).
type MinuteCount struct {
	Minute    time.Time
	Succeeded int64
	Discarded int64
}

// FinishedPerMinute returns the jobs finished in each minute of the last
// window, oldest first, with a zero entry for every minute without any.
func (c *Client) FinishedPerMinute(ctx context.Context, window time.Duration) ([]MinuteCount,
	error) {
	now := c.now().UTC().Truncate(time.Minute)
	since := now.Add(-window + time.Minute)
	rows, err := jobsql.FinishedPerMinute(ctx, c.db, since)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	byMinute := make(map[time.Time]jobsql.MinuteCount, len(rows))
	for _, r := range rows {
		byMinute[r.Minute.UTC()] = r
	}
	var out []MinuteCount
	for m := since; !m.After(now); m = m.Add(time.Minute) {
		r := byMinute[m]
		out = append(out, MinuteCount{Minute: m, Succeeded: r.Succeeded, Discarded: r.Discarded})
	}
	return out, nil
}

// CountJobs counts the jobs that f selects, up to limit: a result equal to
// limit means "limit or more". It ignores f.Limit and f.After.
func (c *Client) CountJobs(ctx context.Context, f JobFilter, limit int) (int64, error) {
	sf, err := f.sql(c.now().UTC())
	if err != nil {
		return 0, err
	}
	n, err := jobsql.CountJobs(ctx, c.db, sf, limit)
	if err != nil {
		return 0, fmt.Errorf("goodjob: %w", err)
	}
	return n, nil
}

// overviewExactBelow is the table size under which Overview counts
// succeeded jobs exactly.
const overviewExactBelow = 100_000

// overviewTodayLimit caps the count of jobs finished today in Overview.
const overviewTodayLimit = 100_000

// Overview is Stats for dashboards: it reads only unfinished and discarded
// rows, so it stays fast with millions of succeeded jobs in the table. On a
// table of more than 100,000 rows the succeeded count is derived from the
// planner's row estimate, and Stats.Estimated is set.
func (c *Client) Overview(ctx context.Context) (*Stats, error) {
	est, err := jobsql.EstimateRows(ctx, c.db)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	if est < overviewExactBelow {
		return c.Stats(ctx)
	}
	now := c.now()
	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).UTC()
	rows, err := jobsql.OverviewStats(ctx, c.db, now.UTC(), midnight)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	today, err := jobsql.FinishedSince(ctx, c.db, midnight, overviewTodayLimit)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	st := statsFromRows(now, rows)
	if st.Kinds, err = c.kindStats(ctx, now); err != nil {
		return nil, err
	}
	st.Estimated = true
	st.FinishedToday += today
	var others int64
	for _, n := range st.States {
		others += n
	}
	st.States[JobStateSucceeded] = max(est-others, 0)
	return st, nil
}
