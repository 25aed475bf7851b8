package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// binary builds the goodjob command once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "goodjob-cli-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "goodjob")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = errors.New(string(out))
		}
	})
	require.NoError(t, build.err, "go build")
	return build.path
}

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command with args and only the given GoodJob variables set.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "GOOD_JOB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run goodjob %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(),
		stderr: stderr.String()}
}

type emailArgs struct {
	To string `json:"to"`
}

func (emailArgs) Kind() string { return "Email" }

func TestCLI_Usage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"NoArgs", nil, nil, 2, "commands:", ""},
		{"Help", nil, []string{"help"}, 0, "cleanup", ""},
		{"CommandHelp", nil, []string{"stats", "--help"}, 0, "usage: goodjob stats", ""},
		{"HelpCommand", nil, []string{"help", "jobs"}, 0, "reschedule", ""},
		{"Unknown", nil, []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"BadFlag", nil, []string{"stats", "--nope"}, 2, "",
			"flag provided but not defined: -nope\nrun 'goodjob stats --help'"},
		{"NoDatabase", nil, []string{"stats"}, 2, "", "set DATABASE_URL or pass --database-url"},
		{"BadEnv", map[string]string{"GOOD_JOB_MAX_THREADS": "many"}, []string{"demo"}, 2, "",
			`GOOD_JOB_MAX_THREADS="many"`},
		{"JobsNoAction", map[string]string{"DATABASE_URL": "postgres://x"}, []string{"jobs"}, 2,
			"", "name an action"},
		{"Unreachable", map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"},
			[]string{"stats"}, 1, "", "check that PostgreSQL is running"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.env, tc.args...)
			require.Equal(t, tc.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			require.Contains(t, r.stdout, tc.stdout)
			require.Contains(t, r.stderr, tc.stderr)
			if tc.code == 0 {
				require.Empty(t, r.stderr, "a successful command writes nothing to stderr")
			}
		})
	}
}

func TestCLI_Migrate(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "migrate", "--print")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "CREATE TABLE IF NOT EXISTS good_jobs (")
	require.Contains(t, r.stdout, "CREATE TABLE IF NOT EXISTS good_job_executions")

	db := testdb.NewEmpty(t)
	env := map[string]string{"DATABASE_URL": db.URL}
	r = run(t, env, "stats")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "run 'goodjob migrate' first")

	r = run(t, env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "migrations applied")
	var n int
	require.NoError(t, db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM good_jobs").Scan(&n))
	require.Zero(t, n)
}

// setup makes a migrated schema with a Client on it.
func setup(t *testing.T) (*testdb.DB, *goodjob.Client, map[string]string) {
	t.Helper()
	db := testdb.New(t)
	c, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)
	return db, c, map[string]string{"DATABASE_URL": db.URL}
}

// finish marks a job finished, with an error when errText is set.
func finish(t *testing.T, db *testdb.DB, id uuid.UUID, errText *string, ago time.Duration) {
	t.Helper()
	_, err := db.Pool.Exec(t.Context(), `UPDATE good_jobs SET finished_at = $2, error = $3
		WHERE id = $1`, id, time.Now().UTC().Add(-ago), errText)
	require.NoError(t, err)
	_, err = db.Pool.Exec(t.Context(), `INSERT INTO good_job_executions
		(created_at, updated_at, active_job_id) VALUES (now(), now(), $1)`, id)
	require.NoError(t, err)
}

func TestCLI_Stats(t *testing.T) {
	t.Parallel()
	db, c, env := setup(t)
	for _, q := range []string{"mail", "mail", "batch"} {
		_, err := c.Enqueue(t.Context(), emailArgs{To: "a"}, goodjob.Queue(q))
		require.NoError(t, err)
	}
	done, err := c.Enqueue(t.Context(), emailArgs{To: "b"}, goodjob.Queue("batch"))
	require.NoError(t, err)
	finish(t, db, done.ID, nil, 0)
	_, err = c.Enqueue(t.Context(), emailArgs{To: "c"}, goodjob.Queue("mail"),
		goodjob.Wait(time.Hour))
	require.NoError(t, err)

	r := run(t, env, "stats", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var doc struct {
		States        map[string]int64 `json:"states"`
		FinishedToday int64            `json:"finished_today"`
		Queues        []struct {
			Queue  string           `json:"queue"`
			States map[string]int64 `json:"states"`
		} `json:"queues"`
		Kinds []map[string]any `json:"kinds"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc), r.stdout)
	require.Len(t, doc.Kinds, 1, r.stdout)
	require.Equal(t, []map[string]any{{
		"kind": "Email", "queued": 3.0, "scheduled": 1.0, "retried": 0.0, "running": 0.0,
		"oldest_queued_age_seconds": doc.Kinds[0]["oldest_queued_age_seconds"],
	}}, doc.Kinds, "the succeeded job is left out")
	require.Less(t, doc.Kinds[0]["oldest_queued_age_seconds"], 60.0)
	require.EqualValues(t, 3, doc.States["queued"])
	require.EqualValues(t, 1, doc.States["succeeded"])
	require.EqualValues(t, 0, doc.States["running"])
	require.EqualValues(t, 1, doc.FinishedToday)
	require.Len(t, doc.Queues, 2)
	require.Equal(t, "mail", doc.Queues[1].Queue)
	require.EqualValues(t, 2, doc.Queues[1].States["queued"])

	r = run(t, env, "stats")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "queued")
	require.Contains(t, r.stdout, "(all)")
	require.Regexp(t, `\n\s*kind\s+scheduled\s+retried\s+queued\s+running\s+oldest queued\n`+
		`\s*Email\s+1\s+0\s+3\s+0\s+\d+s\n`, r.stdout)
}

func TestCLI_Jobs(t *testing.T) {
	t.Parallel()
	db, c, env := setup(t)
	ctx := t.Context()
	var ids []string
	for i := range 3 {
		row, err := c.Enqueue(ctx, emailArgs{To: string(rune('a' + i))}, goodjob.Queue("mail"))
		require.NoError(t, err)
		ids = append(ids, row.ID.String())
	}
	boom := "Err: boom"
	finish(t, db, uuid.MustParse(ids[0]), &boom, 0)

	r := run(t, env, "jobs", "list", "--state", "queued", "--json", "--limit", "1")
	require.Equal(t, 0, r.code, r.stderr)
	var page struct {
		Jobs []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"jobs"`
		Next string `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &page))
	require.Len(t, page.Jobs, 1)
	require.Equal(t, ids[2], page.Jobs[0].ID)
	require.NotEmpty(t, page.Next)
	r = run(t, env, "jobs", "list", "--state", "queued", "--after", page.Next)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, ids[1])
	require.NotContains(t, r.stdout, ids[2])

	r = run(t, env, "jobs", "retry", ids[0], ids[1])
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "retried "+ids[0])
	require.Contains(t, r.stderr, "job state does not allow this change (state queued)")
	require.Contains(t, r.stderr, "1 of 2 jobs not changed")

	r = run(t, env, "jobs", "discard")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "give job ids, or filter flags")
	r = run(t, env, "jobs", "discard", "--queue", "mail", "--limit", "2")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "discarded 2 jobs\n", r.stdout)

	r = run(t, env, "jobs", "reschedule", ids[2])
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "needs --at TIME or --in DURATION")
	r = run(t, env, "jobs", "reschedule", "--state", "queued", "--in", "1h")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "rescheduled 1 jobs\n", r.stdout)
	j, err := c.Job(ctx, uuid.MustParse(ids[2]))
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateScheduled, j.State)

	r = run(t, env, "jobs", "delete", "not-a-uuid")
	require.Equal(t, 2, r.code)
	r = run(t, env, "jobs", "delete", ids[2])
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, "jobs", "delete", ids[2])
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "job not found")
}

func TestCLI_Cleanup(t *testing.T) {
	t.Parallel()
	db, c, env := setup(t)
	boom := "Err: boom"
	for i := range 5 {
		row, err := c.Enqueue(t.Context(), emailArgs{To: "old"})
		require.NoError(t, err)
		var errText *string
		if i == 0 {
			errText = &boom
		}
		finish(t, db, row.ID, errText, 48*time.Hour)
	}
	recent, err := c.Enqueue(t.Context(), emailArgs{To: "recent"})
	require.NoError(t, err)
	finish(t, db, recent.ID, nil, time.Minute)
	_, err = c.Enqueue(t.Context(), emailArgs{To: "waiting"})
	require.NoError(t, err)

	r := run(t, env, "cleanup", "--older-than", "24h", "--batch-size", "2",
		"--include-discarded=false")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "deleted 4 jobs")

	env["GOOD_JOB_CLEANUP_PRESERVED_JOBS_BEFORE_SECONDS_AGO"] = "86400"
	r = run(t, env, "cleanup", "--batch-size", "2")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "deleted 1 jobs")

	var jobs, execs int
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM good_jobs), (SELECT count(*) FROM good_job_executions)`).
		Scan(&jobs, &execs))
	require.Equal(t, 2, jobs)
	require.Equal(t, 1, execs)
}

func TestCLI_Demo(t *testing.T) {
	t.Parallel()
	_, _, env := setup(t)
	env["GOOD_JOB_POLL_INTERVAL"] = "1"
	r := run(t, env, "demo", "--queues", "*:2")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "-> 202 job")
	require.Contains(t, r.stdout, "-> 409 already signed up")
	require.Contains(t, r.stdout, "jobs in good_jobs:")
	require.Regexp(t, `flaky-\S+ +runs=2 finished=true`, r.stdout)
}

func TestCLI_Batches(t *testing.T) {
	t.Parallel()
	db, c, env := setup(t)
	ctx := t.Context()
	b, err := c.NewBatch(ctx, goodjob.BatchParams{})
	require.NoError(t, err)
	row, err := b.Enqueue(ctx, emailArgs{To: "a"})
	require.NoError(t, err)
	boom := "Err: boom"
	finish(t, db, row.ID, &boom, 0)

	unknown := uuid.New().String()
	r := run(t, env, "batches", "retry", b.ID.String(), unknown)
	require.Equal(t, 1, r.code)
	require.Equal(t, "retried 1 jobs of batch "+b.ID.String()+"\n", r.stdout)
	require.Contains(t, r.stderr, "batch not found: "+unknown)
	require.Contains(t, r.stderr, "1 of 2 batches not found")
	j, err := c.Job(ctx, row.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateQueued, j.State)

	r = run(t, env, "batches", "retry", b.ID.String())
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "retried 0 jobs of batch "+b.ID.String()+"\n", r.stdout)
	r = run(t, env, "batches", "retry")
	require.Equal(t, 2, r.code)
	r = run(t, env, "batches", "status", b.ID.String())
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "name an action: retry")
}
