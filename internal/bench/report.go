package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes r as an aligned table for people to read.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	row("goodjob bench --mode %s\t%s, PostgreSQL %s, %s, GOMAXPROCS %d",
		r.Mode, r.Started.Format("2006-01-02 15:04 MST"), r.Server, r.GoVersion, r.GOMAXPROCS)
	if b := r.Backlog; b != nil {
		row("backlog drain\t%s", drainText(*b))
		if u := b.Process; u.RSSMaxMB > 0 {
			row("this process\t%.1f µs CPU per job; RSS %.1f MB at start, %.1f max, %.1f at end"+
				" (sampled every %s); peak %.1f MB", u.CPUMicrosPerJob, u.RSSStartMB, u.RSSMaxMB,
				u.RSSEndMB, rssEvery, u.PeakRSSMB)
		}
	}
	if s := r.Stream; s != nil {
		l := s.LatencyMs
		row("stream\t%d jobs at %d/s (kept %.0f/s), %d workers: %d finished", s.Jobs, s.Rate,
			s.AchievedRate, s.Workers, s.Finished)
		row("pickup latency\tp50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
			l.P50, l.P90, l.P99, l.Max)
	}
	if e := r.Enqueue; e != nil {
		row("Enqueue, %d goroutines\t%.0f jobs/s (%d jobs)", e.Goroutines, e.Single.JobsPerSec,
			e.Single.Jobs)
		row("EnqueueMany of %d\t%.0f jobs/s (%d jobs)", e.Batch, e.Many.JobsPerSec, e.Many.Jobs)
	}
	if l := r.Large; l != nil {
		row("drain, empty table\t%s", drainText(l.Empty))
		row("drain, large table\t%s", drainText(l.Full))
		row("large table\t%d finished + %d future rows, filled in %.1fs; drain rate %.0f%% of empty",
			l.Finished, l.Future, l.FillSeconds, 100*l.Ratio)
		row("claim reads good_jobs by\t%s (index only: %t)", strings.Join(l.Scans, ", "),
			l.IndexScan)
	}
	if raw := r.Raw; raw != nil {
		row("raw INSERT, %d clients\t%.0f rows/s", raw.Clients, raw.Insert.JobsPerSec)
		row("raw claim %d + finish, %d clients\t%.0f rows/s", raw.ClaimBatch, raw.Clients,
			raw.ClaimFinish.JobsPerSec)
	}
	if r.EnqueueOfRaw > 0 {
		row("Enqueue / raw INSERT\t%.0f%%", 100*r.EnqueueOfRaw)
	}
	if r.DrainOfRaw > 0 {
		row("drain / raw claim + finish\t%.0f%%", 100*r.DrainOfRaw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Large != nil {
		_, err := fmt.Fprintf(w, "\nclaim plan on the large table:\n%s\n", r.Large.Plan)
		return err
	}
	return nil
}

func drainText(b BacklogResult) string {
	return fmt.Sprintf("%.0f jobs/s (%d jobs, %d workers, %.2fs, %d finished)",
		b.JobsPerSec, b.Jobs, b.Workers, b.Seconds, b.Finished)
}
