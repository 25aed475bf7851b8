package faulttest_test

import (
	"bufio"
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/faulttest"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// buildWorker compiles the worker program into a temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin,
		"github.com/goodjob-go/goodjob/internal/faulttest/worker").CombinedOutput()
	require.NoError(t, err, "build worker: %s", out)
	return bin
}

// workerProc is one running worker program.
type workerProc struct {
	cmd       *exec.Cmd
	processID uuid.UUID
	exited    chan struct{}
}

// startWorker runs the worker program on db and waits for its ready line.
// The process is killed, if still running, when the test ends.
func startWorker(t *testing.T, bin string, db *testdb.DB, args ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-url", db.URL}, args...)...)
	cmd.Stderr = testWriter{t}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w := &workerProc{cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.exited
	})
	select {
	case line := <-lines:
		w.processID, err = faulttest.ParseReady(line)
		require.NoError(t, err)
	case <-w.exited:
		t.Fatal("worker exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready after 30s")
	}
	return w
}

type testWriter struct{ t testing.TB }

// testLogger sends a Client's warnings to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// enqueueFaultJobs writes n jobs of sleepMS each and creates the runs table.
func enqueueFaultJobs(t *testing.T, db *testdb.DB, n, sleepMS int) {
	t.Helper()
	ctx := t.Context()
	_, err := db.Pool.Exec(ctx, faulttest.RunsTable)
	require.NoError(t, err)
	c, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)
	params := make([]goodjob.EnqueueParams, n)
	for i := range params {
		params[i] = goodjob.EnqueueParams{Args: faulttest.Args{N: i, SleepMS: sleepMS}}
	}
	_, err = c.EnqueueMany(ctx, params)
	require.NoError(t, err)
}

func count(t testing.TB, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

const finishedSQL = `SELECT count(*) FROM good_jobs WHERE finished_at IS NOT NULL`

// waitCount polls until query counts at least want, and returns when.
func waitCount(t *testing.T, pool *pgxpool.Pool, want int, d time.Duration, query string,
	args ...any) time.Time {
	t.Helper()
	require.Eventually(t, func() bool { return count(t, pool, query, args...) >= want },
		d, 20*time.Millisecond, "waiting for %d from %s", want, query)
	return time.Now()
}

// outcome counts the end state of a fault test's jobs.
type outcome struct {
	Enqueued, Succeeded, Failed, Lost, RanOnce, RanTwice, RanMore int
}

func loadOutcome(t *testing.T, pool *pgxpool.Pool) outcome {
	t.Helper()
	var o outcome
	require.NoError(t, pool.QueryRow(context.Background(), `
		WITH r AS (SELECT g.id, g.finished_at, g.error,
			(SELECT count(*) FROM fault_runs f WHERE f.job_id = g.id) AS runs
			FROM good_jobs g)
		SELECT count(*),
			count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NULL),
			count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NOT NULL),
			count(*) FILTER (WHERE finished_at IS NULL OR runs = 0),
			count(*) FILTER (WHERE runs = 1),
			count(*) FILTER (WHERE runs = 2),
			count(*) FILTER (WHERE runs > 2)
		FROM r`).Scan(&o.Enqueued, &o.Succeeded, &o.Failed, &o.Lost, &o.RanOnce,
		&o.RanTwice, &o.RanMore))
	return o
}
