package goodjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// ErrNotInJob is returned by SetProgress and SetResult when ctx is not the
// context of a running job.
var ErrNotInJob = errors.New("goodjob: context is not a running job's")

type runningJobKey struct{}

type runningJob struct {
	c  *Client
	id uuid.UUID
}

func withRunningJob(ctx context.Context, c *Client, id uuid.UUID) context.Context {
	return context.WithValue(ctx, runningJobKey{}, runningJob{c: c, id: id})
}

// JobID returns the id of the job whose Work received ctx.
func JobID(ctx context.Context) (uuid.UUID, bool) {
	r, ok := ctx.Value(runningJobKey{}).(runningJob)
	return r.id, ok
}

// SetProgress records how far the running job is, from 0 to 100, with a
// message for people watching, such as "imported 400 of 1000 rows". Other
// processes read it through the dashboard's job status endpoint.
func SetProgress(ctx context.Context, percent float64, message string) error {
	r, ok := ctx.Value(runningJobKey{}).(runningJob)
	if !ok {
		return ErrNotInJob
	}
	if math.IsNaN(percent) || percent < 0 || percent > 100 {
		return fmt.Errorf("goodjob: progress %v is not between 0 and 100", percent)
	}
	found, err := jobsql.SetProgress(ctx, r.c.db, r.id, percent, message, r.c.now().UTC())
	if err != nil {
		return fmt.Errorf("goodjob: %w", err)
	}
	if !found {
		return fmt.Errorf("goodjob: set progress: job %s is gone or finished", r.id)
	}
	return nil
}

// SetResult stores v, encoded as JSON, as the running job's result. Results
// add up: when both the stored result and v are JSON objects, v's keys are
// merged into it; otherwise v replaces it.
func SetResult(ctx context.Context, v any) error {
	r, ok := ctx.Value(runningJobKey{}).(runningJob)
	if !ok {
		return ErrNotInJob
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("goodjob: encode result of job %s: %w", r.id, err)
	}
	found, err := jobsql.SetResult(ctx, r.c.db, r.id, raw)
	if err != nil {
		return fmt.Errorf("goodjob: %w", err)
	}
	if !found {
		return fmt.Errorf("goodjob: set result: job %s is gone", r.id)
	}
	return nil
}

// JobStatus is what a job tells watchers about itself: its state, the
// progress and result it reported with SetProgress and SetResult, and its
// last error. The dashboard serves it as JSON for users' own pages.
type JobStatus struct {
	ID       uuid.UUID       `json:"id"`
	Kind     string          `json:"kind"`
	Status   JobState        `json:"status"`
	Progress *float64        `json:"progress"`
	Message  string          `json:"message"`
	Result   json.RawMessage `json:"result"`
	Error    string          `json:"error"`
}

// Status returns the job's JobStatus, or an error wrapping ErrJobNotFound.
func (c *Client) Status(ctx context.Context, id uuid.UUID) (*JobStatus, error) {
	row, err := jobsql.GetStatus(ctx, c.db, c.now().UTC(), id)
	if errors.Is(err, jobsql.ErrNoJob) {
		return nil, fmt.Errorf("%w: %s", ErrJobNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	s := &JobStatus{ID: id, Kind: row.Kind, Status: JobState(row.State), Error: row.Error,
		Result: row.Result}
	if len(row.Progress) > 0 {
		var p struct {
			Percent *float64 `json:"percent"`
			Message string   `json:"message"`
		}
		if err := json.Unmarshal(row.Progress, &p); err == nil {
			s.Progress, s.Message = p.Percent, p.Message
		}
	}
	return s, nil
}
