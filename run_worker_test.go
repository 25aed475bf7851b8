package goodjob_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestRunWorker_Flags(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})

	err := goodjob.RunWorker(t.Context(), c, []string{"worker", "--help"})
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, args := range [][]string{
		{"worker", "--queues", "a:0"}, {"worker", "--max-threads", "x"},
		{"worker", "--poll-interval", "soon"}, {"worker", "extra"},
	} {
		err := goodjob.RunWorker(t.Context(), c, args)
		require.ErrorIs(t, err, goodjob.ErrInvalidFlags, "%q", args)
	}
}

// TestRunWorker_ContextStops runs the worker in this process: the flags
// reach the Client, and ending ctx stops it gracefully.
func TestRunWorker_ContextStops(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{Queues: "ignored"})
	started := make(chan noopArgs, 1)
	require.NoError(t, goodjob.Register(c, recorder(started)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- goodjob.RunWorker(ctx, c, []string{"worker", "--queues", "fast:2",
			"--probe-port", fmt.Sprint(port), "--shutdown-timeout", "5s"})
	}()
	waitConnected(t, port)

	var queues string
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		"SELECT state->>'queues' FROM good_job_processes").Scan(&queues))
	require.Equal(t, "fast:2", queues)
	_, err = c.Enqueue(t.Context(), noopArgs{N: 1}, goodjob.Queue("fast"))
	require.NoError(t, err)
	require.Equal(t, noopArgs{N: 1}, waitFor(t, started, 10*time.Second, "job"))

	cancel()
	require.NoError(t, waitFor(t, done, 10*time.Second, "RunWorker to return"))
}

// waitConnected waits until the worker's probe on port says /status/connected.
func waitConnected(t *testing.T, port int) {
	t.Helper()
	probe := fmt.Sprintf("http://127.0.0.1:%d/status/connected", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(probe)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond)
}
