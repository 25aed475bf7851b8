package main_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestCLI_CronList(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	c, err := goodjob.New(db.Pool, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"nightly": {Cron: "@daily", Args: emailArgs{To: "team"}},
		"hourly":  {Cron: "@hourly", Args: emailArgs{To: "ops"}},
	}})
	require.NoError(t, err)
	_, err = c.EnqueueCronNow(t.Context(), "nightly")
	require.NoError(t, err)
	require.NoError(t, c.SetCronEnabled(t.Context(), "hourly", false))
	env := map[string]string{"DATABASE_URL": db.URL}

	r := run(t, env, "cron", "list")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3, r.stdout)
	require.Regexp(t, `^hourly\s+-\s+0\s+disabled$`, lines[1])
	require.Regexp(t, `^nightly\s+\d{4}-\S+\s+1\s+default$`, lines[2])

	r = run(t, env, "jobs", "list", "--cron", "nightly", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, 1, strings.Count(r.stdout, `"kind": "Email"`), r.stdout)
	r = run(t, env, "jobs", "list", "--cron", "hourly", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotContains(t, r.stdout, `"kind"`, "hourly never ran")

	r = run(t, env, "cron", "list", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"Key": "nightly"`)

	r = run(t, env, "cron", "enable", "x")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "cron list")
}

func TestCLI_Dashboard(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	cmd := exec.Command(binary(t), "dashboard", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db.URL)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	url := strings.TrimSpace(strings.TrimPrefix(line, "dashboard on "))
	resp, err := http.Get(url + "jobs")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), "No jobs match")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "a clean exit on SIGTERM")
	case <-time.After(10 * time.Second):
		t.Fatal("dashboard did not stop on SIGTERM")
	}

	r := run(t, map[string]string{"DATABASE_URL": db.URL}, "dashboard", "--user", "only")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--password")
}
