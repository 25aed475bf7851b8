package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/examples/split/jobs"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// worker is a running worker process.
type worker struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	probe  string
	exited chan error
}

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds the worker once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "goodjob-worker-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "worker")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, build.err)
	return build.path
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// startWorker builds the example and starts it on db with args.
func startWorker(t *testing.T, db *testdb.DB, args ...string) *worker {
	t.Helper()
	bin := binary(t)

	port := freePort(t)
	args = append(args, "--probe-port", fmt.Sprint(port))
	w := &worker{cmd: exec.Command(bin, args...), out: &syncBuffer{},
		probe: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan error, 1)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOOD_JOB_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			w.cmd.Env = append(w.cmd.Env, kv)
		}
	}
	w.cmd.Env = append(w.cmd.Env, "DATABASE_URL="+db.URL, "GOOD_JOB_POLL_INTERVAL=1")
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	require.NoError(t, w.cmd.Start())
	go func() { w.exited <- w.cmd.Wait() }()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker output:\n%s", w.out)
		}
	})
	return w
}

// status returns the probe's HTTP status for path, or 0 when it does not
// answer.
func (w *worker) status(path string) int {
	resp, err := http.Get(w.probe + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// wait returns the process's exit code.
func (w *worker) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-w.exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("worker: %v", err)
		}
		return w.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not exit")
		return -1
	}
}

func jobState(t *testing.T, c *goodjob.Client, id uuid.UUID) goodjob.JobState {
	j, err := c.Job(t.Context(), id)
	require.NoError(t, err)
	return j.State
}

func TestWorker_GracefulStop(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)
	w := startWorker(t, db, "--queues", "reports:2", "--shutdown-timeout", "30s")

	// The probe answers before Start; it turns ready once pools and the
	// listener run.
	require.Eventually(t, func() bool { return w.status("/status/connected") == 200 },
		20*time.Second, 20*time.Millisecond)
	require.Equal(t, 200, w.status("/status/started"))
	require.Equal(t, 200, w.status("/status"))
	require.Equal(t, 404, w.status("/nope"))

	quick, err := c.Enqueue(t.Context(), jobs.Report{Name: "quick"}, goodjob.Queue("reports"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return jobState(t, c, quick.ID) == goodjob.JobStateSucceeded
	}, 10*time.Second, 20*time.Millisecond)

	slow, err := c.Enqueue(t.Context(), jobs.Report{Name: "slow", Seconds: 3},
		goodjob.Queue("reports"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return jobState(t, c, slow.ID) == goodjob.JobStateRunning
	}, 10*time.Second, 20*time.Millisecond)

	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool { return w.status("/status/started") == 503 },
		2*time.Second, 10*time.Millisecond)
	require.Equal(t, 503, w.status("/status/connected"))
	require.Equal(t, 200, w.status("/status"))

	require.Equal(t, 0, w.wait(t), "exit code")
	j, err := c.Job(t.Context(), slow.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateSucceeded, j.State, "the running job finished")
	require.Len(t, j.Executions, 1)
	require.Empty(t, j.Executions[0].Error)
	require.Equal(t, 0, w.status("/status"), "probe closed after stop")
	require.Contains(t, w.out.String(), "signal=terminated")
}

func TestWorker_ShutdownTimeoutReleasesJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)
	w := startWorker(t, db, "--shutdown-timeout", "0.2")
	require.Eventually(t, func() bool { return w.status("/status/started") == 200 },
		20*time.Second, 20*time.Millisecond)

	long, err := c.Enqueue(t.Context(), jobs.Report{Name: "long", Seconds: 60})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return jobState(t, c, long.ID) == goodjob.JobStateRunning
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGINT))

	require.Equal(t, 1, w.wait(t), "exit code after releasing a job")
	j, err := c.Job(t.Context(), long.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateQueued, j.State, "the job went back to the queue")
	require.Nil(t, j.LockedByID)
	require.Contains(t, j.Error, "interrupted")
}

func TestWorker_BadFlags(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := startWorker(t, db, "--queues", "a:0")
	require.Equal(t, 2, w.wait(t))
	require.Contains(t, w.out.String(), "invalid worker flags")
}
