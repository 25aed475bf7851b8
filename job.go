package goodjob

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Args are a job's arguments. Kind names the job: it is stored as
// good_jobs.job_class and routes the job to the worker registered for it.
// Args travel as JSON, so their fields must marshal.
type Args interface {
	Kind() string
}

// Job is what a worker receives for one attempt.
type Job[T Args] struct {
	ID          uuid.UUID
	ActiveJobID uuid.UUID
	Args        T
	Queue       string
	Priority    int
	Attempt     int // 1 on the first run
	ScheduledAt time.Time
	CreatedAt   time.Time
	Labels      []string
	// BatchID is the batch the job belongs to, uuid.Nil for none. From
	// Work, BatchFromContext gives the batch to add jobs to.
	BatchID uuid.UUID
	// CronKey is the key of the Config.Cron entry that enqueued the job
	// (good_jobs.cron_key), "" for a job not enqueued by cron.
	CronKey string
	// CronAt is the cron tick the job is for (good_jobs.cron_at), in UTC:
	// the scheduled time of the tick, not when the job was inserted or
	// runs, and the time [Client.EnqueueCronNow] was called for its jobs.
	// Zero for a job not enqueued by cron.
	CronAt time.Time
}

// JobRow is a job as stored, returned by Enqueue and the admin functions.
type JobRow struct {
	ID              uuid.UUID
	ActiveJobID     uuid.UUID
	Kind            string
	Queue           string
	Priority        int
	Args            json.RawMessage
	Labels          []string
	ScheduledAt     time.Time
	CreatedAt       time.Time
	PerformedAt     *time.Time
	FinishedAt      *time.Time
	LockedByID      *uuid.UUID
	ExecutionsCount int
	Error           string
	CronKey         string
	CronAt          *time.Time
	// UniqueKey is the key given with [Unique] or derived by [UniqueBy];
	// empty for a job that is not unique.
	UniqueKey string
	// Duplicate is set on the job Enqueue returns instead of inserting one:
	// an unfinished job of the same kind held the unique key, and this is
	// that job. The job asked for was not written.
	Duplicate bool
	// BatchID is the job's batch; uuid.Nil when the job is in no batch.
	BatchID uuid.UUID
	// ConcurrencyKey is the key of the kind's [Concurrency] limits, "" for
	// none.
	ConcurrencyKey string
}

// envelope is ActiveJob's serialized_params document.
type envelope struct {
	JobClass            string            `json:"job_class"`
	JobID               uuid.UUID         `json:"job_id"`
	ProviderJobID       *string           `json:"provider_job_id"`
	QueueName           string            `json:"queue_name"`
	Priority            *int              `json:"priority"`
	Arguments           []json.RawMessage `json:"arguments"`
	Executions          int               `json:"executions"`
	ExceptionExecutions map[string]int    `json:"exception_executions"`
	Locale              string            `json:"locale"`
	Timezone            string            `json:"timezone"`
	EnqueuedAt          string            `json:"enqueued_at"`
	ScheduledAt         *string           `json:"scheduled_at"`
	// TraceContext is the enqueuer's trace, from Config.Propagator. An
	// extra key: ActiveJob ignores keys it does not know.
	TraceContext map[string]string `json:"goodjob_trace_context,omitempty"`
}

// activeJobTime is ActiveJob's timestamp format: 9 fractional digits, UTC.
const activeJobTime = "2006-01-02T15:04:05.000000000Z"

func newEnvelope(id uuid.UUID, kind, queue string, priority int, args json.RawMessage,
	enqueuedAt, scheduledAt time.Time) envelope {
	e := envelope{
		JobClass:            kind,
		JobID:               id,
		QueueName:           queue,
		Priority:            &priority,
		Arguments:           []json.RawMessage{args},
		ExceptionExecutions: map[string]int{},
		Locale:              "en",
		Timezone:            "UTC",
		EnqueuedAt:          enqueuedAt.UTC().Format(activeJobTime),
	}
	if scheduledAt.After(enqueuedAt) {
		s := scheduledAt.UTC().Format(activeJobTime)
		e.ScheduledAt = &s
	}
	return e
}
