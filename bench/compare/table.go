package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/goodjob-go/goodjob/internal/bench"
)

// table holds every figure of one run.
type table struct {
	started time.Time

	goodjob []bench.BacklogResult // one per --workers setting
	river   []bench.BacklogResult // one per --river-workers setting

	enqueue                           bench.EnqueueResult
	riverSingle, riverMany, riverFast bench.Throughput

	stream, riverStream bench.StreamResult
}

// write prints the table: one line per measurement, River's figure,
// goodjob's, and goodjob's over River's where higher is better.
func (t *table) write(w io.Writer, o options) error {
	fmt.Fprintf(w, "goodjob vs River %s, one run, %s, GOMAXPROCS %d\n\n",
		t.started.Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tRiver\tgoodjob\tgoodjob/River\t")
	var gjBest, riverBest bench.BacklogResult
	for i, r := range t.goodjob {
		fmt.Fprintf(tw, "drain %d jobs, goodjob MaxThreads %d (jobs/s)\t\t%.0f\t\t\n",
			o.jobs, o.workers[i], r.JobsPerSec)
		gjBest = best(gjBest, r)
	}
	for i, r := range t.river {
		fmt.Fprintf(tw, "drain %d jobs, River MaxWorkers %d (jobs/s)\t%.0f\t\t\t\n",
			o.jobs, o.riverWorkers[i], r.JobsPerSec)
		riverBest = best(riverBest, r)
	}
	fmt.Fprintf(tw, "drain %d jobs, best setting of each (jobs/s)\t%.0f\t%.0f\t%.2f\t\n",
		o.jobs, riverBest.JobsPerSec, gjBest.JobsPerSec,
		ratio(gjBest.JobsPerSec, riverBest.JobsPerSec))
	fmt.Fprintf(tw, "InsertMany / EnqueueMany of %d (jobs/s)\t%.0f\t%.0f\t%.2f\t\n",
		t.enqueue.Batch, t.riverMany.JobsPerSec, t.enqueue.Many.JobsPerSec,
		ratio(t.enqueue.Many.JobsPerSec, t.riverMany.JobsPerSec))
	fmt.Fprintf(tw, "InsertManyFast (COPY) of %d (jobs/s)\t%.0f\t\t\t\n",
		t.enqueue.Batch, t.riverFast.JobsPerSec)
	fmt.Fprintf(tw, "Insert / Enqueue from %d goroutines (jobs/s)\t%.0f\t%.0f\t%.2f\t\n",
		t.enqueue.Goroutines, t.riverSingle.JobsPerSec, t.enqueue.Single.JobsPerSec,
		ratio(t.enqueue.Single.JobsPerSec, t.riverSingle.JobsPerSec))
	fmt.Fprintf(tw, "stream at %d/s: rate kept (jobs/s)\t%.0f\t%.0f\t\t\n", o.rate,
		t.riverStream.AchievedRate, t.stream.AchievedRate)
	rl, gl := t.riverStream.LatencyMs, t.stream.LatencyMs
	for _, l := range []struct {
		name      string
		river, gj float64
	}{
		{"p50", rl.P50, gl.P50},
		{"p90", rl.P90, gl.P90},
		{"p99", rl.P99, gl.P99},
		{"max", rl.Max, gl.Max},
	} {
		fmt.Fprintf(tw, "pickup latency at %d/s, %d workers, %s (ms)\t%.2f\t%.2f\t%.2f\t\n",
			o.rate, o.streamWorkers, l.name, l.river, l.gj, ratio(l.river, l.gj))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nRiver: FetchCooldown %s, FetchPollInterval %s. goodjob: default "+
		"Config but MaxThreads.\nDrains and inserts: best of %d rounds. Latency ratios are River's over "+
		"goodjob's, so above 1 means goodjob is faster.\n", o.riverFetch.Cooldown,
		o.riverFetch.Poll, o.rounds)
	return err
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
