package main_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/internal/bench"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// runBench runs goodjob bench --json with args, checks that it succeeded
// and dropped its scratch database, and returns its report.
func runBench(t *testing.T, args ...string) *bench.Report {
	t.Helper()
	db := testdb.New(t)
	r := run(t, map[string]string{"DATABASE_URL": db.URL},
		append([]string{"bench", "--json"}, args...)...)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	var report bench.Report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report), r.stdout)
	require.Regexp(t, `^goodjob_bench_[0-9a-f]{8}$`, report.Scratch)
	require.NotEmpty(t, report.Server)

	var left int
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM pg_database WHERE datname = $1) +
		(SELECT count(*) FROM pg_namespace WHERE nspname = $1)`, report.Scratch).Scan(&left))
	require.Zero(t, left, "scratch %s left behind", report.Scratch)
	var jobs int
	require.NoError(t, db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM good_jobs").Scan(&jobs))
	require.Zero(t, jobs, "the bench wrote into the caller's schema")
	return &report
}

func TestCLI_Bench(t *testing.T) {
	t.Parallel()

	t.Run("Backlog", func(t *testing.T) {
		t.Parallel()
		r := runBench(t, "--mode", "backlog", "--jobs", "3000", "--workers", "20",
			"--compare-sql", "--goroutines", "2", "--duration", "300ms")
		require.Equal(t, "backlog", r.Mode)
		require.NotNil(t, r.Backlog)
		require.Equal(t, 3000, r.Backlog.Jobs)
		require.Equal(t, 3000, r.Backlog.Finished)
		require.Equal(t, 20, r.Backlog.Workers)
		require.Greater(t, r.Backlog.JobsPerSec, 0.0)
		require.NotNil(t, r.Raw)
		require.Greater(t, r.Raw.Insert.JobsPerSec, 0.0)
		require.Equal(t, 3000, r.Raw.ClaimFinish.Jobs, "the raw drain finishes every row")
		require.Greater(t, r.Raw.ClaimFinish.JobsPerSec, 0.0)
		require.InDelta(t, r.Backlog.JobsPerSec/r.Raw.ClaimFinish.JobsPerSec, r.DrainOfRaw, 1e-9)
		require.Nil(t, r.Stream)
	})

	t.Run("Stream", func(t *testing.T) {
		t.Parallel()
		r := runBench(t, "--mode", "stream", "--rate", "200", "--duration", "1s",
			"--workers", "10")
		require.NotNil(t, r.Stream)
		require.Equal(t, 200, r.Stream.Jobs)
		require.Equal(t, 200, r.Stream.Finished)
		require.Greater(t, r.Stream.AchievedRate, 0.0)
		l := r.Stream.LatencyMs
		require.Greater(t, l.P50, 0.0)
		require.LessOrEqual(t, l.P50, l.P90)
		require.LessOrEqual(t, l.P90, l.P99)
		require.LessOrEqual(t, l.P99, l.Max)
		require.Less(t, l.Max, 10_000.0, "every job started well before the poll interval")
	})

	t.Run("Enqueue", func(t *testing.T) {
		t.Parallel()
		r := runBench(t, "--mode", "enqueue", "--goroutines", "3", "--duration", "300ms",
			"--batch", "100", "--compare-sql", "--jobs", "500")
		require.NotNil(t, r.Enqueue)
		require.Equal(t, 3, r.Enqueue.Goroutines)
		require.Positive(t, r.Enqueue.Single.Jobs)
		require.Greater(t, r.Enqueue.Single.JobsPerSec, 0.0)
		require.Equal(t, 100, r.Enqueue.Batch)
		require.GreaterOrEqual(t, r.Enqueue.Many.Jobs, 100)
		require.Zero(t, r.Enqueue.Many.Jobs%100, "whole batches only")
		require.Greater(t, r.EnqueueOfRaw, 0.0)
	})

	t.Run("Large", func(t *testing.T) {
		t.Parallel()
		r := runBench(t, "--mode", "large", "--jobs", "1000", "--workers", "20",
			"--finished", "30000", "--future", "3000")
		l := r.Large
		require.NotNil(t, l)
		require.Equal(t, 30000, l.Finished)
		require.Equal(t, 3000, l.Future)
		require.Equal(t, 1000, l.Empty.Finished)
		require.Equal(t, 1000, l.Full.Finished)
		require.Greater(t, l.Ratio, 0.0)
		require.True(t, l.IndexScan, l.Plan)
		require.Contains(t, l.Scans, "Index Scan index_good_jobs_for_candidate_dequeue_unlocked",
			l.Plan)
	})

	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		db := testdb.New(t)
		r := run(t, map[string]string{"DATABASE_URL": db.URL}, "bench", "--jobs", "500",
			"--workers", "5")
		require.Equal(t, 0, r.code, r.stderr)
		require.Regexp(t, `backlog drain +\d+ jobs/s \(500 jobs, 5 workers, .*, 500 finished\)`,
			r.stdout)
	})

	t.Run("BadMode", func(t *testing.T) {
		t.Parallel()
		r := run(t, map[string]string{"DATABASE_URL": "postgres://x"}, "bench", "--mode", "fast")
		require.Equal(t, 2, r.code)
		require.Contains(t, r.stderr, `--mode is "fast"`)
	})
}
