// Package jobs holds the job types shared by the web process, which only
// enqueues them, and the worker process, which only works them.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/goodjob-go/goodjob"
)

// Report asks for a report to be rendered. Rendering takes Seconds, to
// stand for slow work that a graceful shutdown must let finish.
type Report struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Kind names the job in good_jobs.job_class.
func (Report) Kind() string { return "Report" }

// RenderReport is the worker of Report jobs.
func RenderReport(logger *slog.Logger) goodjob.Worker[Report] {
	return goodjob.WorkFunc[Report](func(ctx context.Context, job *goodjob.Job[Report]) error {
		logger.Info("rendering report", "job_id", job.ID, "name", job.Args.Name)
		select {
		case <-time.After(time.Duration(job.Args.Seconds * float64(time.Second))):
		case <-ctx.Done():
			return fmt.Errorf("render report %q: %w", job.Args.Name, ctx.Err())
		}
		logger.Info("report rendered", "job_id", job.ID, "name", job.Args.Name)
		return nil
	})
}
