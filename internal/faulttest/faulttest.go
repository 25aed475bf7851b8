// Package faulttest holds the job and the worker program of the fault
// tests: real worker processes that the tests kill, cut off from Postgres
// and stop, to prove that no job is lost.
package faulttest

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
)

// RunsTable records every run of a fault job, written by the job itself.
const RunsTable = `CREATE TABLE IF NOT EXISTS fault_runs (
	id bigserial PRIMARY KEY,
	job_id uuid NOT NULL,
	pid int NOT NULL,
	started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	ended_at timestamptz
)`

// Args is a job that records its run and then sleeps.
type Args struct {
	N       int `json:"n"`
	SleepMS int `json:"sleep_ms"`
	// IgnoreContext makes the job sleep through a cancelled context.
	IgnoreContext bool `json:"ignore_context,omitempty"`
}

// Kind is the job's class.
func (Args) Kind() string { return "FaultJob" }

// Worker records a run in fault_runs, sleeps, then marks the run ended.
type Worker struct {
	Pool *pgxpool.Pool
	PID  int
}

// Work runs one fault job.
func (w *Worker) Work(ctx context.Context, job *goodjob.Job[Args]) error {
	var run int64
	err := w.Pool.QueryRow(ctx, `INSERT INTO fault_runs (job_id, pid) VALUES ($1, $2)
		RETURNING id`, job.ID, w.PID).Scan(&run)
	if err != nil {
		return fmt.Errorf("record run of %s: %w", job.ID, err)
	}
	if err := w.sleep(ctx, job.Args); err != nil {
		return err
	}
	return w.recordEnd(context.WithoutCancel(ctx), job.ID, run)
}

// recordEnd marks the run ended, trying again on a fresh connection when
// the test killed the one it used, so that a run's end is known unless its
// process died.
func (w *Worker) recordEnd(ctx context.Context, jobID uuid.UUID, run int64) error {
	var err error
	for range 20 {
		_, err = w.Pool.Exec(ctx, `UPDATE fault_runs SET ended_at = clock_timestamp()
			WHERE id = $1`, run)
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("record end of %s: %w", jobID, err)
}

func (w *Worker) sleep(ctx context.Context, a Args) error {
	d := time.Duration(a.SleepMS) * time.Millisecond
	if a.IgnoreContext {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Register adds the fault job's worker to c, with quick retries so that
// runs broken by a killed connection come back at once.
func Register(c *goodjob.Client, pool *pgxpool.Pool, pid int) error {
	policy := goodjob.RetryPolicy{Attempts: 25, Wait: goodjob.Fixed(20 * time.Millisecond)}
	return goodjob.Register[Args](c, &Worker{Pool: pool, PID: pid}, goodjob.Retry(policy))
}

// ReadyLine is what the worker program prints once started, followed by
// its process id.
const ReadyLine = "ready"

// ParseReady reads the worker's ready line.
func ParseReady(line string) (uuid.UUID, error) {
	var s string
	if _, err := fmt.Sscanf(line, ReadyLine+" %s", &s); err != nil {
		return uuid.Nil, fmt.Errorf("read ready line %q: %w", line, err)
	}
	return uuid.Parse(s)
}
