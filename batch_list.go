package goodjob

import (
	"context"
	"fmt"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Limits of a page of [Client.Batches].
const (
	BatchesLimitDefault = 50
	BatchesLimitMax     = 1000
)

// BatchState selects batches for [BatchFilter]. The states are GoodJob's
// predicates on a batch's row, so they overlap: a batch one of whose jobs
// was discarded is also open or finished.
type BatchState string

// The batch states.
const (
	// BatchStateOpen: the batch has not finished (finished_at is not set).
	// An unsealed batch stays open, whatever its jobs do.
	BatchStateOpen BatchState = jobsql.BatchOpen
	// BatchStateFinished: its jobs and its callback jobs have all finished
	// (finished_at).
	BatchStateFinished BatchState = jobsql.BatchFinished
	// BatchStateDiscarded: one of its jobs was discarded (discarded_at),
	// whether the batch has finished or not.
	BatchStateDiscarded BatchState = jobsql.BatchDiscarded
)

// BatchFilter selects batches for [Client.Batches]. The zero value lists
// every batch, newest first.
type BatchFilter struct {
	// State keeps batches in this state. Empty: every batch.
	State BatchState
	// Limit is the page size: default BatchesLimitDefault, at most
	// BatchesLimitMax.
	Limit int
	// After is BatchPage.Next of the previous page; empty starts from the
	// newest batch.
	After string
}

// BatchPage is one page of [Client.Batches].
type BatchPage struct {
	Batches []*BatchStatus
	// Next is the cursor of the following page, for BatchFilter.After;
	// empty on the last page.
	Next string
}

// Batches lists the batches that match f, newest first, one page at a
// time, each with its jobs counted as [Client.BatchStatus] counts them. As
// with [Client.Jobs], the order is by id (goodjob's batch ids are UUIDv7;
// those GoodJob for Rails writes are random, so its batches list in no
// particular order) and paging is by keyset: batches created meanwhile
// neither shift nor repeat the pages. One statement reads a page and its
// counts. A bad filter or cursor returns an error wrapping
// ErrInvalidFilter.
func (c *Client) Batches(ctx context.Context, f BatchFilter) (*BatchPage, error) {
	if f.State != "" && !jobsql.ValidBatchState(string(f.State)) {
		return nil, fmt.Errorf("%w: unknown batch state %q, want %s, %s or %s",
			ErrInvalidFilter, f.State, BatchStateOpen, BatchStateFinished, BatchStateDiscarded)
	}
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, fmt.Errorf("%w: limit is %d, want 0 or more", ErrInvalidFilter, limit)
	case limit == 0:
		limit = BatchesLimitDefault
	case limit > BatchesLimitMax:
		limit = BatchesLimitMax
	}
	var after *jobsql.Cursor
	if f.After != "" {
		var err error
		if after, err = decodeCursor(f.After, "Batches"); err != nil {
			return nil, err
		}
	}
	// One extra row tells whether another page follows.
	rows, err := jobsql.ListBatches(ctx, c.db, string(f.State), after, limit+1)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	page := &BatchPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeCursor(jobsql.Cursor{ID: rows[limit-1].ID})
	}
	page.Batches = make([]*BatchStatus, len(rows))
	for i, r := range rows {
		if page.Batches[i], err = newBatchStatus(r); err != nil {
			return nil, fmt.Errorf("goodjob: list batches: %w", err)
		}
	}
	return page, nil
}
