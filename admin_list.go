package goodjob

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Limits of a page of [Client.Jobs].
const (
	JobsLimitDefault = 50
	JobsLimitMax     = 1000
)

// JobFilter selects jobs for [Client.Jobs] and for the bulk changes
// ([Client.RetryJobs] and the others). Every field narrows the selection;
// the zero value selects every job.
type JobFilter struct {
	// States keeps jobs in any of these states. Empty: every state.
	States []JobState
	// Queue keeps jobs of this queue (queue_name).
	Queue string
	// Kind keeps jobs of this kind (job_class).
	Kind string
	// Label keeps jobs that carry this label.
	Label string
	// Search keeps jobs whose args or error text contain it, ignoring case.
	Search string
	// FinishedBefore keeps jobs that finished before this time.
	FinishedBefore time.Time
	// BatchID keeps the jobs of this batch (batch_id); its callback jobs
	// are not among them. uuid.Nil: jobs of any batch or none.
	BatchID uuid.UUID
	// CallbacksOf keeps the callback jobs of this batch (batch_callback_id):
	// its finish, success and discard callbacks. uuid.Nil: any.
	CallbacksOf uuid.UUID
	// CronKey keeps the jobs that the cron entry of this key enqueued
	// (cron_key), as GoodJob's cron page lists them.
	CronKey string

	// Limit is the page size of Jobs: default JobsLimitDefault, at most
	// JobsLimitMax. For a bulk change it caps how many jobs change; 0
	// changes every job that matches.
	Limit int
	// After is JobPage.Next of the previous page; empty starts from the
	// newest job. Bulk changes ignore it.
	After string
}

// isEmpty reports whether f selects every job.
func (f JobFilter) isEmpty() bool {
	return len(f.States) == 0 && f.Queue == "" && f.Kind == "" && f.Label == "" &&
		f.Search == "" && f.FinishedBefore.IsZero() && f.BatchID == uuid.Nil &&
		f.CronKey == "" && f.CallbacksOf == uuid.Nil
}

// sql turns f into the statements' filter, validating its states.
func (f JobFilter) sql(now time.Time) (jobsql.Filter, error) {
	if f.Limit < 0 {
		return jobsql.Filter{}, fmt.Errorf("%w: limit is %d, want 0 or more",
			ErrInvalidFilter, f.Limit)
	}
	out := jobsql.Filter{
		Now: now, Queue: f.Queue, Kind: f.Kind, Label: f.Label, Search: f.Search,
		BatchID: f.BatchID, CronKey: f.CronKey, CallbacksOf: f.CallbacksOf,
	}
	if !f.FinishedBefore.IsZero() {
		out.FinishedBefore = f.FinishedBefore.UTC()
	}
	for _, s := range f.States {
		if _, err := ParseJobState(string(s)); err != nil {
			return out, err
		}
		out.States = append(out.States, string(s))
	}
	return out, nil
}

// JobPage is one page of [Client.Jobs].
type JobPage struct {
	Jobs []*JobRecord
	// Next is the cursor of the following page, for JobFilter.After; empty
	// on the last page.
	Next string
}

// Jobs lists the jobs that match f, newest first (by id: goodjob's ids are
// UUIDv7, ordered by creation time; ids of rows that other tools wrote may
// not be),
// one page at a time. Paging is by keyset: a page starts right after the
// cursor, so jobs inserted meanwhile neither shift nor repeat the pages.
// A bad filter or cursor returns an error wrapping ErrInvalidFilter.
func (c *Client) Jobs(ctx context.Context, f JobFilter) (*JobPage, error) {
	sf, err := f.sql(c.now().UTC())
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = JobsLimitDefault
	case limit > JobsLimitMax:
		limit = JobsLimitMax
	}
	var after *jobsql.Cursor
	if f.After != "" {
		if after, err = decodeCursor(f.After, "Jobs"); err != nil {
			return nil, err
		}
	}
	// One extra row tells whether another page follows.
	rows, err := jobsql.ListJobs(ctx, c.db, sf, after, limit+1)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	page := &JobPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = encodeCursor(jobsql.Cursor{ID: last.ID})
	}
	page.Jobs = make([]*JobRecord, len(rows))
	for i, r := range rows {
		page.Jobs[i] = newJobRecord(r)
	}
	return page, nil
}

// Stats is a snapshot of the queue, as [Client.Stats] returns it.
type Stats struct {
	// At is when the snapshot was taken.
	At time.Time `json:"at"`
	// States counts jobs by state; every state is present.
	States map[JobState]int64 `json:"states"`
	// Queues breaks the counts down by queue, sorted by name.
	Queues []QueueStats `json:"queues"`
	// FinishedToday counts jobs that succeeded or were discarded since
	// midnight, in the time zone of the Client's clock (the process's
	// local zone).
	FinishedToday int64 `json:"finished_today"`
	// OldestQueuedAge is how long the longest-waiting queued job has been
	// due; zero when nothing is queued.
	OldestQueuedAge time.Duration `json:"oldest_queued_age"`
	// Kinds counts the unfinished jobs of each kind (job_class), sorted by
	// kind, as GoodJob's Job.queued.group(:job_class).count does for one
	// state. Finished jobs are left out, so a kind with none waiting or
	// running is absent. A second statement reads them, so under load its
	// totals can differ from States by the jobs that moved in between.
	Kinds []KindStats `json:"kinds"`
	// Estimated is set by [Client.Overview]: the succeeded count is the
	// planner's estimate, FinishedToday may be capped, and per-queue
	// succeeded counts are left at zero.
	Estimated bool `json:"estimated,omitempty"`
}

// QueueStats is the part of [Stats] for one queue.
type QueueStats struct {
	Queue           string             `json:"queue"`
	States          map[JobState]int64 `json:"states"`
	FinishedToday   int64              `json:"finished_today"`
	OldestQueuedAge time.Duration      `json:"oldest_queued_age"`
}

// KindStats is the part of [Stats] for one kind: its jobs in each
// unfinished state, and how long its oldest queued job has been due (zero
// when none is queued).
type KindStats struct {
	Kind            string        `json:"kind"`
	Queued          int64         `json:"queued"`
	Scheduled       int64         `json:"scheduled"`
	Retried         int64         `json:"retried"`
	Running         int64         `json:"running"`
	OldestQueuedAge time.Duration `json:"oldest_queued_age"`
}

func zeroStates() map[JobState]int64 {
	m := make(map[JobState]int64, len(JobStates))
	for _, s := range JobStates {
		m[s] = 0
	}
	return m
}

// Stats counts jobs by state and by queue, the jobs finished today and the
// age of the oldest queued job, in one read of good_jobs, and the
// unfinished jobs by kind in a second, cheap one. The first scans the
// whole table, so call it for an operator's view, not in a hot loop.
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	now := c.now()
	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	rows, err := jobsql.Stats(ctx, c.db, now.UTC(), midnight.UTC())
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	st := statsFromRows(now, rows)
	if st.Kinds, err = c.kindStats(ctx, now); err != nil {
		return nil, err
	}
	return st, nil
}

// kindStats counts the unfinished jobs of each kind at now.
func (c *Client) kindStats(ctx context.Context, now time.Time) ([]KindStats, error) {
	rows, err := jobsql.KindStats(ctx, c.db, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	out := make([]KindStats, len(rows))
	for i, r := range rows {
		out[i] = KindStats{
			Kind: r.Kind, Queued: r.Queued, Scheduled: r.Scheduled, Retried: r.Retried,
			Running: r.Running,
		}
		if r.OldestDue != nil {
			out[i].OldestQueuedAge = max(now.UTC().Sub(*r.OldestDue), 0)
		}
	}
	return out, nil
}

// statsFromRows adds up per-queue, per-state counts.
func statsFromRows(now time.Time, rows []jobsql.StatsRow) *Stats {
	st := &Stats{At: now, States: zeroStates()}
	for _, r := range rows {
		if len(st.Queues) == 0 || st.Queues[len(st.Queues)-1].Queue != r.Queue {
			st.Queues = append(st.Queues, QueueStats{Queue: r.Queue, States: zeroStates()})
		}
		q := &st.Queues[len(st.Queues)-1]
		state := JobState(r.State)
		q.States[state] += r.Count
		st.States[state] += r.Count
		q.FinishedToday += r.FinishedSince
		st.FinishedToday += r.FinishedSince
		if r.OldestDue != nil {
			age := max(now.UTC().Sub(*r.OldestDue), 0)
			q.OldestQueuedAge = max(q.OldestQueuedAge, age)
			st.OldestQueuedAge = max(st.OldestQueuedAge, age)
		}
	}
	return st
}
