package goodjob

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// JobState is a job's state, derived from its columns exactly as GoodJob
// derives it, checked in this order:
//
//   - succeeded: finished_at set, error NULL
//   - discarded: finished_at set, error set
//   - scheduled: not finished, scheduled_at in the future,
//     serialized_params.executions below 2
//   - retried: not finished, scheduled_at in the future,
//     serialized_params.executions above 1
//   - running: not finished, due, performed_at set
//   - queued: not finished, due, performed_at NULL
//
// As in GoodJob, a job waiting for its first retry has executions 1 and so
// shows as scheduled; it shows as retried from its second retry on. A row
// without scheduled_at uses created_at.
type JobState string

// The job states.
const (
	JobStateScheduled JobState = jobsql.StateScheduled
	JobStateRetried   JobState = jobsql.StateRetried
	JobStateQueued    JobState = jobsql.StateQueued
	JobStateRunning   JobState = jobsql.StateRunning
	JobStateSucceeded JobState = jobsql.StateSucceeded
	JobStateDiscarded JobState = jobsql.StateDiscarded
)

// JobStates lists every state, in the order a job usually moves through
// them.
var JobStates = []JobState{
	JobStateScheduled, JobStateRetried, JobStateQueued, JobStateRunning,
	JobStateSucceeded, JobStateDiscarded,
}

// ParseJobState returns the state named s, or an error wrapping
// ErrInvalidFilter.
func ParseJobState(s string) (JobState, error) {
	if !jobsql.ValidState(s) {
		return "", fmt.Errorf("%w: unknown state %q, want one of %s", ErrInvalidFilter, s,
			joinStates(JobStates))
	}
	return JobState(s), nil
}

func joinStates(ss []JobState) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// ErrorEvent is why a job's or an execution's error was recorded, as
// GoodJob numbers it in the error_event columns.
type ErrorEvent int16

// The error events.
const (
	ErrorEventInterrupted  ErrorEvent = ErrorEvent(jobsql.EventInterrupted)
	ErrorEventUnhandled    ErrorEvent = ErrorEvent(jobsql.EventUnhandled)
	ErrorEventHandled      ErrorEvent = ErrorEvent(jobsql.EventHandled)
	ErrorEventRetried      ErrorEvent = ErrorEvent(jobsql.EventRetried)
	ErrorEventRetryStopped ErrorEvent = ErrorEvent(jobsql.EventRetryStopped)
	ErrorEventDiscarded    ErrorEvent = ErrorEvent(jobsql.EventDiscarded)
)

var errorEventNames = [...]string{
	"interrupted", "unhandled", "handled", "retried", "retry_stopped", "discarded",
}

// String returns GoodJob's name for e.
func (e ErrorEvent) String() string {
	if e >= 0 && int(e) < len(errorEventNames) {
		return errorEventNames[e]
	}
	return "error_event(" + strconv.Itoa(int(e)) + ")"
}

// JobRecord is a job as the admin API shows it: its row and its state.
type JobRecord struct {
	JobRow
	State      JobState
	ErrorEvent *ErrorEvent
	UpdatedAt  time.Time
	LockedAt   *time.Time
	// BatchCallbackID is the batch this job is a callback of, uuid.Nil
	// for none.
	BatchCallbackID uuid.UUID
	// Executions are the job's attempts, oldest first. Only [Client.Job]
	// fills them in.
	Executions []Execution
}

// Execution is one attempt at a job, a good_job_executions row.
type Execution struct {
	ID          uuid.UUID
	Kind        string
	Queue       string
	ScheduledAt time.Time
	// StartedAt is the row's created_at, the start of the attempt.
	StartedAt  time.Time
	FinishedAt *time.Time
	Duration   time.Duration
	Error      string
	ErrorEvent *ErrorEvent
	Backtrace  []string
	// ProcessID is the good_job_processes id of the process that ran it.
	ProcessID *uuid.UUID
}

func newJobRecord(j jobsql.AdminJob) *JobRecord {
	r := &JobRecord{
		JobRow: JobRow{
			ID: j.ID, ActiveJobID: j.ActiveJobID, Kind: j.Kind, Queue: j.Queue,
			Priority: int(j.Priority), Args: j.Args, Labels: j.Labels,
			ScheduledAt: j.ScheduledAt, CreatedAt: j.CreatedAt, PerformedAt: j.PerformedAt,
			FinishedAt: j.FinishedAt, LockedByID: j.LockedByID,
			ExecutionsCount: int(j.ExecutionsCount), Error: j.Error, CronAt: j.CronAt,
		},
		State:      JobState(j.State),
		ErrorEvent: toEvent(j.ErrorEvent),
		UpdatedAt:  j.UpdatedAt,
		LockedAt:   j.LockedAt,
	}
	if j.CronKey != nil {
		r.CronKey = *j.CronKey
	}
	if j.UniqueKey != nil {
		r.UniqueKey = *j.UniqueKey
	}
	if j.BatchID != nil {
		r.BatchID = *j.BatchID
	}
	if j.BatchCallbackID != nil {
		r.BatchCallbackID = *j.BatchCallbackID
	}
	if j.ConcurrencyKey != nil {
		r.ConcurrencyKey = *j.ConcurrencyKey
	}
	return r
}

func toEvent(e *int16) *ErrorEvent {
	if e == nil {
		return nil
	}
	ev := ErrorEvent(*e)
	return &ev
}

// Job returns the job with the given id and its executions, or an error
// wrapping ErrJobNotFound.
func (c *Client) Job(ctx context.Context, id uuid.UUID) (*JobRecord, error) {
	j, err := jobsql.GetJob(ctx, c.db, c.now().UTC(), id)
	if errors.Is(err, jobsql.ErrNoJob) {
		return nil, &JobActionError{ID: id, Action: "get", Err: ErrJobNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	r := newJobRecord(j)
	execs, err := jobsql.ListExecutions(ctx, c.db, j.ActiveJobID)
	if err != nil {
		return nil, fmt.Errorf("goodjob: job %s: %w", id, err)
	}
	r.Executions = make([]Execution, len(execs))
	for i, e := range execs {
		r.Executions[i] = Execution{
			ID: e.ID, Kind: e.Kind, Queue: e.Queue, ScheduledAt: e.ScheduledAt,
			StartedAt: e.CreatedAt, FinishedAt: e.FinishedAt, Duration: e.Duration,
			Error: e.Error, ErrorEvent: toEvent(e.ErrorEvent), Backtrace: e.Backtrace,
			ProcessID: e.ProcessID,
		}
	}
	return r, nil
}

// encodeCursor writes a page position as an opaque URL-safe string.
func encodeCursor(cur jobsql.Cursor) string {
	return base64.RawURLEncoding.EncodeToString(cur.ID[:])
}

// decodeCursor reads a cursor that encodeCursor wrote for the list call
// named by list.
func decodeCursor(s, list string) (*jobsql.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != len(uuid.UUID{}) {
		return nil, fmt.Errorf("%w: cursor %q was not returned by %s", ErrInvalidFilter, s,
			list)
	}
	return &jobsql.Cursor{ID: uuid.UUID(raw)}, nil
}
