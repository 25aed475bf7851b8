package goodjob

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob/internal/inline"
	"github.com/goodjob-go/goodjob/internal/jobsql"
)

func init() {
	inline.WorkNext = func(ctx context.Context, client any, id *uuid.UUID) (uuid.UUID, bool, error) {
		return client.(*Client).workNext(ctx, id)
	}
	inline.WorkScheduled = func(ctx context.Context, client any) (uuid.UUID, bool, error) {
		return client.(*Client).workScheduled(ctx)
	}
}

// workerKinds returns the kinds c has workers for, sorted.
func (c *Client) workerKinds() []string {
	c.mu.RLock()
	kinds := make([]string, 0, len(c.handlers))
	for k := range c.handlers {
		kinds = append(kinds, k)
	}
	c.mu.RUnlock()
	slices.Sort(kinds)
	return kinds
}

// workScheduled brings the earliest job scheduled in the future forward to
// now and works it: the engine of goodjobtest's DrainWith with Scheduled.
func (c *Client) workScheduled(ctx context.Context) (uuid.UUID, bool, error) {
	id, ok, err := jobsql.BringForward(ctx, c.db, c.workerKinds(), c.now().UTC())
	if err != nil || !ok {
		return uuid.Nil, false, wrapInline(err)
	}
	next := uuid.UUID(id)
	return c.workNext(ctx, &next)
}

// workNext claims one due job and works it on the calling goroutine, with
// the retry, snooze and discard handling of the pools. It is the engine of
// package goodjobtest's Work and Drain.
func (c *Client) workNext(ctx context.Context, id *uuid.UUID) (uuid.UUID, bool, error) {
	now := c.now().UTC()
	p := jobsql.ClaimParams{ProcessID: c.processID, Now: now, Limit: 1, Kinds: c.workerKinds()}

	var job jobsql.ClaimedJob
	if id != nil {
		j, ok, err := jobsql.ClaimID(ctx, c.db, p, *id)
		if err != nil || !ok {
			return uuid.Nil, false, wrapInline(err)
		}
		job = j
	} else {
		jobs, err := jobsql.Claim(ctx, c.db, p)
		if err != nil || len(jobs) == 0 {
			return uuid.Nil, false, wrapInline(err)
		}
		job = jobs[0]
	}
	comp := c.execute(ctx, &job, now)
	var n int
	var err error
	if comp.Batched() {
		n, err = c.completeBatched(context.WithoutCancel(ctx), []jobsql.Completion{comp})
	} else {
		n, err = jobsql.Complete(context.WithoutCancel(ctx), c.db, c.processID, c.now().UTC(),
			[]jobsql.Completion{comp})
	}
	if err != nil {
		return job.ID, true, wrapInline(err)
	}
	if n != 1 {
		return job.ID, true, fmt.Errorf("goodjob: work job %s inline: job was unlocked", job.ID)
	}
	return job.ID, true, nil
}

func wrapInline(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("goodjob: work job inline: %w", err)
}
