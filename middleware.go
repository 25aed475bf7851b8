package goodjob

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// JobInfo describes the job a Middleware wraps.
type JobInfo struct {
	ID          uuid.UUID
	Kind        string
	Queue       string
	Priority    int
	Attempt     int
	Args        json.RawMessage
	Labels      []string
	ScheduledAt time.Time
	BatchID     uuid.UUID // uuid.Nil when the job is in no batch
	CronKey     string    // as Job.CronKey: "" unless cron enqueued the job
	CronAt      time.Time // as Job.CronAt: the tick, zero unless cron enqueued the job
}

// Middleware wraps a Work call, as ActiveJob's around_perform does. It must
// call next to run the job (or return without calling it to skip the job);
// its error follows the same retry rules as Work's.
type Middleware func(ctx context.Context, job *JobInfo, next func(context.Context) error) error
