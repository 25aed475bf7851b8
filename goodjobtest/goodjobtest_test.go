package goodjobtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/goodjobtest"
)

func TestMain(m *testing.M) { goodjobtest.Main(m) }

type emailArgs struct {
	To string `json:"to"`
}

func (emailArgs) Kind() string { return "Email" }

type chainArgs struct {
	Left int `json:"left"`
}

func (chainArgs) Kind() string { return "Chain" }

// fakeT records a helper's failure instead of failing the real test.
type fakeT struct {
	testing.TB // nil: any method not overridden here panics
	failed     bool
	msg        string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
}

func newClient(t *testing.T, db *goodjobtest.DB) *goodjob.Client {
	t.Helper()
	c, err := goodjob.New(db.Pool, goodjob.Config{})
	require.NoError(t, err)
	return c
}

func TestRequireEnqueued(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	ctx := t.Context()
	at := time.Now().Add(time.Hour)
	row, err := c.Enqueue(ctx, emailArgs{To: "a@x"}, goodjob.Queue("mail"), goodjob.Priority(3),
		goodjob.At(at), goodjob.Labels("l1", "l2"))
	require.NoError(t, err)

	got := goodjobtest.RequireEnqueued(t, db.Pool, emailArgs{To: "a@x"},
		goodjobtest.Queue("mail"), goodjobtest.Priority(3),
		goodjobtest.ScheduledAt(at, time.Millisecond), goodjobtest.Labels("l2", "l1"))
	require.Equal(t, row.ID, got.ID)
	goodjobtest.RequireNotEnqueued(t, db.Pool, emailArgs{To: "b@x"})

	cases := []struct {
		name string
		args emailArgs
		opts []goodjobtest.Expect
		msg  []string
	}{
		{"Args", emailArgs{To: "b@x"}, nil, []string{
			`expected 1 enqueued Email job with args {"to":"b@x"}`,
			"found 0 matching among 1 Email jobs", `(differs: args {"to":"a@x"})`}},
		{"Queue", emailArgs{To: "a@x"}, []goodjobtest.Expect{goodjobtest.Queue("default")},
			[]string{`queue "default"`, `(differs: queue "mail")`}},
		{"Priority", emailArgs{To: "a@x"}, []goodjobtest.Expect{goodjobtest.Priority(0)},
			[]string{"priority 0", "(differs: priority 3)"}},
		{"ScheduledAt", emailArgs{To: "a@x"}, []goodjobtest.Expect{
			goodjobtest.ScheduledAt(time.Now(), time.Minute)},
			[]string{"± 1m0s", "(differs: scheduled at "}},
		{"Labels", emailArgs{To: "a@x"}, []goodjobtest.Expect{goodjobtest.Labels("l1")},
			[]string{`labels ["l1"]`, `(differs: labels ["l1" "l2"])`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{}
			require.Nil(t, goodjobtest.RequireEnqueued(ft, db.Pool, tc.args, tc.opts...))
			require.True(t, ft.failed)
			for _, m := range tc.msg {
				require.Contains(t, ft.msg, m)
			}
		})
	}

	ft := &fakeT{}
	goodjobtest.RequireNotEnqueued(ft, db.Pool, emailArgs{}, goodjobtest.AnyArgs())
	require.True(t, ft.failed)
	require.Contains(t, ft.msg, "expected no enqueued Email job; found 1:")
	require.Contains(t, ft.msg, row.ID.String())

	_, err = c.Enqueue(ctx, emailArgs{To: "a@x"}, goodjob.Queue("mail"))
	require.NoError(t, err)
	ft = &fakeT{}
	goodjobtest.RequireEnqueued(ft, db.Pool, emailArgs{To: "a@x"}, goodjobtest.Queue("mail"))
	require.Contains(t, ft.msg, "found 2 matching among 2 Email jobs")
}

func TestRequireEnqueued_InTransaction(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	tx, err := db.Pool.Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = c.EnqueueTx(t.Context(), tx, emailArgs{To: "tx@x"})
	require.NoError(t, err)

	goodjobtest.RequireEnqueued(t, tx, emailArgs{To: "tx@x"})
	goodjobtest.RequireNotEnqueued(t, db.Pool, emailArgs{}, goodjobtest.AnyArgs())
	ft := &fakeT{}
	goodjobtest.RequireEnqueued(ft, db.Pool, emailArgs{To: "tx@x"})
	require.Contains(t, ft.msg, "found 0 matching among 0 Email jobs:\n  (none)")
}

func TestRequireManyEnqueued(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	for _, e := range []goodjob.Args{emailArgs{To: "1"}, chainArgs{Left: 2}, emailArgs{To: "3"}} {
		_, err := c.Enqueue(t.Context(), e)
		require.NoError(t, err)
	}
	rows := goodjobtest.RequireManyEnqueued(t, db.Pool, []goodjobtest.ExpectedJob{
		{Args: emailArgs{To: "1"}},
		{Args: chainArgs{Left: 2}, Expect: []goodjobtest.Expect{goodjobtest.Queue("default")}},
		{Args: emailArgs{To: "3"}},
	})
	require.Len(t, rows, 3)
	require.Equal(t, "Chain", rows[1].Kind)

	ft := &fakeT{}
	goodjobtest.RequireManyEnqueued(ft, db.Pool, []goodjobtest.ExpectedJob{
		{Args: emailArgs{To: "1"}},
	})
	require.Contains(t, ft.msg, "expected 1 enqueued jobs:\n  1. Email job with args {\"to\":\"1\"}")
	require.Contains(t, ft.msg, "found 2:")

	ft = &fakeT{}
	goodjobtest.RequireManyEnqueued(ft, db.Pool, []goodjobtest.ExpectedJob{
		{Args: emailArgs{To: "1"}}, {Args: emailArgs{To: "3"}}, {Args: chainArgs{Left: 2}},
	})
	require.Contains(t, ft.msg, "enqueued job 2: expected Email job with args {\"to\":\"3\"}; "+
		"found kind Chain, args {\"left\":2}")
}

func TestWork(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[emailArgs](
		func(_ context.Context, j *goodjob.Job[emailArgs]) error {
			switch j.Args.To {
			case "fail":
				return errors.New("smtp down")
			case "discard":
				return goodjob.Discard(errors.New("no such address"))
			}
			return nil
		})))
	ctx := t.Context()

	ok := goodjobtest.Work(ctx, t, c, emailArgs{To: "a@x"})
	require.Equal(t, goodjob.JobStateSucceeded, ok.State)
	require.Len(t, ok.Executions, 1)

	failed := goodjobtest.Work(ctx, t, c, emailArgs{To: "fail"})
	require.Equal(t, goodjob.JobStateScheduled, failed.State, "retried later")
	require.Contains(t, failed.Error, "smtp down")
	require.Equal(t, goodjob.ErrorEventRetried, *failed.ErrorEvent)

	discarded := goodjobtest.Work(ctx, t, c, emailArgs{To: "discard"})
	require.Equal(t, goodjob.JobStateDiscarded, discarded.State)
	require.Contains(t, discarded.Error, "no such address")

	ft := &fakeT{}
	require.Nil(t, goodjobtest.Work(ctx, ft, c, chainArgs{Left: 1}))
	require.Contains(t, ft.msg, "could not be claimed: is a worker registered for Chain")
}

func TestDrain(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	var order []int
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[chainArgs](
		func(ctx context.Context, j *goodjob.Job[chainArgs]) error {
			order = append(order, j.Args.Left)
			if j.Args.Left == 0 {
				return nil
			}
			_, err := c.Enqueue(ctx, chainArgs{Left: j.Args.Left - 1})
			return err
		})))
	ctx := t.Context()
	_, err := c.Enqueue(ctx, chainArgs{Left: 2})
	require.NoError(t, err)
	later, err := c.Enqueue(ctx, chainArgs{Left: 9}, goodjob.Wait(time.Hour))
	require.NoError(t, err)
	_, err = c.Enqueue(ctx, emailArgs{To: "no worker"})
	require.NoError(t, err)

	worked := goodjobtest.Drain(ctx, t, c)
	require.Equal(t, []int{2, 1, 0}, order)
	require.Len(t, worked, 3)
	for _, j := range worked {
		require.Equal(t, goodjob.JobStateSucceeded, j.State)
	}
	goodjobtest.RequireEnqueued(t, db.Pool, chainArgs{Left: 9})
	goodjobtest.RequireEnqueued(t, db.Pool, emailArgs{To: "no worker"})
	j, err := c.Job(ctx, later.ID)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateScheduled, j.State)
	require.Empty(t, goodjobtest.Drain(ctx, t, c))
}

func TestDrain_Endless(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[chainArgs](
		func(ctx context.Context, j *goodjob.Job[chainArgs]) error {
			_, err := c.Enqueue(ctx, chainArgs{Left: j.Args.Left + 1})
			return err
		})))
	_, err := c.Enqueue(t.Context(), chainArgs{})
	require.NoError(t, err)

	ft := &fakeT{}
	worked := goodjobtest.Drain(t.Context(), ft, c)
	require.Len(t, worked, goodjobtest.DrainLimitDefault)
	require.Contains(t, ft.msg, "still finding jobs after 1000 attempts")
}
