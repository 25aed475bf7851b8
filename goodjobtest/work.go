package goodjobtest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/inline"
)

// DrainLimitDefault bounds how many attempts Drain makes before it decides
// that jobs keep enqueuing jobs forever.
const DrainLimitDefault = 1000

// Work enqueues args through client and runs its worker now, on the
// calling goroutine, with the retry, snooze and discard handling the pools
// apply: GoodJob's perform_now. It returns the job as stored afterwards,
// with its executions; check State for the outcome (succeeded, scheduled
// or retried for a retry, discarded).
//
// client must have a worker registered for args' kind and should not be
// started, or its pools may take the job first. Work fails t when the job
// cannot be enqueued or run.
func Work(ctx context.Context, t testing.TB, client *goodjob.Client, args goodjob.Args,
	opts ...goodjob.EnqueueOption) *goodjob.JobRecord {
	t.Helper()
	row, err := client.Enqueue(ctx, args, opts...)
	if err != nil {
		t.Fatalf("goodjobtest: Work: %v", err)
		return nil
	}
	id, ok, err := inline.WorkNext(ctx, client, &row.ID)
	switch {
	case err != nil:
		t.Fatalf("goodjobtest: Work %s: %v", row.Kind, err)
		return nil
	case !ok:
		t.Fatalf("goodjobtest: Work: %s job %s could not be claimed: is a worker "+
			"registered for %s, is it scheduled in the future, or did a started "+
			"Client take it?", row.Kind, row.ID, row.Kind)
		return nil
	}
	return load(ctx, t, client, id)
}

// Drain runs every job that is due now and whose kind has a worker on
// client, one at a time on the calling goroutine, including the jobs those
// jobs enqueue, until none is left: GoodJob's perform_enqueued_jobs. Jobs
// scheduled in the future, retries among them, stay where they are; to run
// them too, use DrainWith. It returns every attempt's job as stored after
// it, in the order they ran.
//
// It fails t after DrainLimitDefault attempts, which means jobs keep
// enqueuing jobs without end.
func Drain(ctx context.Context, t testing.TB, client *goodjob.Client) []*goodjob.JobRecord {
	t.Helper()
	return drain(ctx, t, "Drain", client, DrainOpts{})
}

// DrainOpts changes what DrainWith runs. The zero value runs what Drain
// runs.
type DrainOpts struct {
	// Scheduled also runs the jobs scheduled in the future, retries and
	// snoozed jobs among them, as if their time had come: whenever no job
	// is due, the earliest is moved to now, as RescheduleJob would, and
	// run. A job that keeps failing then runs until its retry policy
	// discards it, which makes testing a retry to exhaustion one call.
	Scheduled bool
	// Limit is the most attempts DrainWith makes before it fails t; 0 means
	// DrainLimitDefault. With Scheduled, a job that snoozes forever or a
	// cron-like chain of jobs that enqueue their next run reaches it.
	Limit int
}

// DrainWith is Drain with options: with Scheduled it also runs the jobs
// scheduled in the future, like perform_enqueued_jobs with jobs enqueued
// with wait or wait_until. It fails t when it has made o.Limit attempts
// and still finds jobs to run.
func DrainWith(ctx context.Context, t testing.TB, client *goodjob.Client,
	o DrainOpts) []*goodjob.JobRecord {
	t.Helper()
	return drain(ctx, t, "DrainWith", client, o)
}

func drain(ctx context.Context, t testing.TB, name string, client *goodjob.Client,
	o DrainOpts) []*goodjob.JobRecord {
	t.Helper()
	limit := o.Limit
	switch {
	case limit < 0:
		t.Fatalf("goodjobtest: %s: Limit is %d, want 0 or more", name, limit)
		return nil
	case limit == 0:
		limit = DrainLimitDefault
	}
	var worked []*goodjob.JobRecord
	for range limit {
		id, ok, err := inline.WorkNext(ctx, client, nil)
		if err == nil && !ok && o.Scheduled {
			id, ok, err = inline.WorkScheduled(ctx, client)
		}
		if err != nil {
			t.Fatalf("goodjobtest: %s: %v", name, err)
			return worked
		}
		if !ok {
			return worked
		}
		j := load(ctx, t, client, id)
		if j == nil {
			return worked
		}
		worked = append(worked, j)
	}
	why := "do jobs keep enqueuing jobs?"
	if o.Scheduled {
		why = "do jobs keep enqueuing jobs, or snoozing?"
	}
	t.Fatalf("goodjobtest: %s: still finding jobs after %d attempts; %s", name, limit, why)
	return worked
}

func load(ctx context.Context, t testing.TB, client *goodjob.Client,
	id uuid.UUID) *goodjob.JobRecord {
	t.Helper()
	j, err := client.Job(ctx, id)
	if err != nil {
		t.Fatalf("goodjobtest: load job %s: %v", id, err)
		return nil
	}
	return j
}
