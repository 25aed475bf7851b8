package goodjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// BatchStatus is a batch's row and its jobs' progress.
type BatchStatus struct {
	ID          uuid.UUID      `json:"id"`
	Description string         `json:"description"`
	Properties  map[string]any `json:"properties"`
	// OnFinish, OnSuccess and OnDiscard are the callbacks' kinds, empty
	// for none.
	OnFinish         string `json:"on_finish"`
	OnSuccess        string `json:"on_success"`
	OnDiscard        string `json:"on_discard"`
	CallbackQueue    string `json:"callback_queue"`
	CallbackPriority *int   `json:"callback_priority"`

	CreatedAt time.Time `json:"created_at"`
	// EnqueuedAt is when the batch was sealed.
	EnqueuedAt *time.Time `json:"enqueued_at"`
	// DiscardedAt is when its first discarded job was seen.
	DiscardedAt *time.Time `json:"discarded_at"`
	// JobsFinishedAt is when its last job finished and the finish and
	// success callbacks were enqueued.
	JobsFinishedAt *time.Time `json:"jobs_finished_at"`
	// FinishedAt is when its callback jobs finished too.
	FinishedAt *time.Time `json:"finished_at"`

	Jobs      int `json:"jobs"`      // jobs in the batch, callbacks not counted
	Pending   int `json:"pending"`   // not finished: waiting, running or retrying
	Finished  int `json:"finished"`  // finished, succeeded or discarded
	Succeeded int `json:"succeeded"` // finished without an error
	Discarded int `json:"discarded"` // finished with an error
	Callbacks int `json:"callbacks"` // callback jobs enqueued so far
}

// BatchStatus returns the batch id and its progress, or an error wrapping
// ErrBatchNotFound.
func (c *Client) BatchStatus(ctx context.Context, id uuid.UUID) (*BatchStatus, error) {
	r, err := jobsql.GetBatch(ctx, c.db, id)
	if errors.Is(err, jobsql.ErrNoBatch) {
		return nil, fmt.Errorf("%w: %s", ErrBatchNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	s, err := newBatchStatus(r)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	return s, nil
}

// newBatchStatus converts a batch's row and counts.
func newBatchStatus(r jobsql.BatchRecord) (*BatchStatus, error) {
	props, err := decodeProperties(r.Properties)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", r.ID, err)
	}
	s := &BatchStatus{
		ID: r.ID, Description: r.Description, Properties: props,
		OnFinish: r.OnFinish, OnSuccess: r.OnSuccess, OnDiscard: r.OnDiscard,
		CallbackQueue: r.CallbackQueue, CreatedAt: r.CreatedAt, EnqueuedAt: r.EnqueuedAt,
		DiscardedAt: r.DiscardedAt, JobsFinishedAt: r.JobsFinishedAt, FinishedAt: r.FinishedAt,
		Jobs: r.Jobs, Pending: r.Jobs - r.Finished, Finished: r.Finished,
		Succeeded: r.Finished - r.Discarded, Discarded: r.Discarded, Callbacks: r.Callbacks,
	}
	if r.CallbackPriority != nil {
		p := int(*r.CallbackPriority)
		s.CallbackPriority = &p
	}
	return s, nil
}
