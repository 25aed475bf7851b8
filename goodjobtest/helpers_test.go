package goodjobtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/goodjobtest"
)

// orderArgs has nested args, for partial matching.
type orderArgs struct {
	ID    int               `json:"id"`
	User  map[string]any    `json:"user"`
	Items []map[string]any  `json:"items"`
	Meta  map[string]string `json:"meta,omitempty"`
}

func (orderArgs) Kind() string { return "Order" }

// numberArgs reads emailArgs' field as a number, which it is not.
type numberArgs struct {
	To int `json:"to"`
}

func (numberArgs) Kind() string { return "Email" }

func TestRequireEnqueued_ArgsMatching(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	for _, to := range []string{"ada@x", "bob@y"} {
		_, err := c.Enqueue(t.Context(), emailArgs{To: to})
		require.NoError(t, err)
	}
	atX := goodjobtest.ArgsMatching(func(a emailArgs) bool { return strings.HasSuffix(a.To, "@x") })

	got := goodjobtest.RequireEnqueued(t, db.Pool, emailArgs{}, atX)
	require.Contains(t, string(got.Args), "ada@x")
	goodjobtest.RequireNotEnqueued(t, db.Pool, emailArgs{}, goodjobtest.ArgsMatching(
		func(a emailArgs) bool { return a.To == "" }))
	goodjobtest.RequireManyEnqueued(t, db.Pool, []goodjobtest.ExpectedJob{
		{Args: emailArgs{}, Expect: []goodjobtest.Expect{atX}},
		{Args: emailArgs{To: "bob@y"}},
	})

	ft := &fakeT{}
	require.Nil(t, goodjobtest.RequireEnqueued(ft, db.Pool, emailArgs{}, goodjobtest.ArgsMatching(
		func(a emailArgs) bool { return a.To == "carol@z" })))
	require.True(t, ft.failed)
	require.Contains(t, ft.msg, "expected 1 enqueued Email job with args accepted by an "+
		"ArgsMatching func of goodjobtest_test.emailArgs; found 0 matching among 2 Email jobs")
	require.Contains(t, ft.msg, `(differs: args {"to":"ada@x"})`)

	ft = &fakeT{}
	goodjobtest.RequireNotEnqueued(ft, db.Pool, emailArgs{}, atX)
	require.Contains(t, ft.msg, "expected no enqueued Email job with args accepted by")
	require.Contains(t, ft.msg, "found 1:")

	// Args that do not decode into the func's type match nothing.
	ft = &fakeT{}
	goodjobtest.RequireEnqueued(ft, db.Pool, emailArgs{}, goodjobtest.ArgsMatching(
		func(numberArgs) bool { return true }))
	require.Contains(t, ft.msg, "found 0 matching among 2 Email jobs")
}

func TestRequireEnqueued_ArgsIncluding(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	_, err := c.Enqueue(t.Context(), orderArgs{ID: 7,
		User:  map[string]any{"id": 1, "name": "ada"},
		Items: []map[string]any{{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}},
	})
	require.NoError(t, err)

	for name, subset := range map[string]any{
		"TopLevel":  map[string]any{"id": 7},
		"Nested":    map[string]any{"user": map[string]any{"name": "ada"}},
		"InArray":   map[string]any{"items": []any{map[string]any{"sku": "a"}, map[string]any{}}},
		"Omitempty": orderArgs{ID: 7, User: map[string]any{"id": 1}, Items: []map[string]any{{}, {}}},
	} {
		t.Run(name, func(t *testing.T) {
			goodjobtest.RequireEnqueued(t, db.Pool, orderArgs{}, goodjobtest.ArgsIncluding(subset))
		})
	}

	cases := []struct {
		name   string
		subset any
		msg    string
	}{
		{"Value", map[string]any{"id": 8}, `with args including {"id":8}; found 0 matching`},
		{"MissingKey", map[string]any{"coupon": nil}, `including {"coupon":null}`},
		{"NestedValue", map[string]any{"user": map[string]any{"name": "bob"}},
			`including {"user":{"name":"bob"}}`},
		{"ArrayLength", map[string]any{"items": []any{map[string]any{"sku": "a"}}},
			`including {"items":[{"sku":"a"}]}`},
		{"NotAnObject", map[string]any{"user": "ada"}, `including {"user":"ada"}`},
		{"Unencodable", map[string]any{"ch": make(chan int)},
			"RequireEnqueued: ArgsIncluding: encode map[string]interface {}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{}
			require.Nil(t, goodjobtest.RequireEnqueued(ft, db.Pool, orderArgs{},
				goodjobtest.ArgsIncluding(tc.subset)))
			require.True(t, ft.failed)
			require.Contains(t, ft.msg, tc.msg)
		})
	}
	goodjobtest.RequireNotEnqueued(t, db.Pool, orderArgs{},
		goodjobtest.ArgsIncluding(map[string]any{"id": 8}))
}

func TestRequireEnqueuedN(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	for _, to := range []string{"x", "x", "y", "x"} {
		_, err := c.Enqueue(t.Context(), emailArgs{To: to}, goodjob.Queue("mail"))
		require.NoError(t, err)
	}

	rows := goodjobtest.RequireEnqueuedN(t, db.Pool, 3, emailArgs{To: "x"}, goodjobtest.Queue("mail"))
	require.Len(t, rows, 3)
	for _, r := range rows {
		require.JSONEq(t, `{"to":"x"}`, string(r.Args))
	}
	require.Empty(t, goodjobtest.RequireEnqueuedN(t, db.Pool, 0, emailArgs{To: "z"}))
	require.Len(t, goodjobtest.RequireEnqueuedN(t, db.Pool, 4, emailArgs{},
		goodjobtest.AnyArgs()), 4)

	cases := []struct {
		name string
		n    int
		args emailArgs
		opts []goodjobtest.Expect
		msg  string
	}{
		{"TooFew", 4, emailArgs{To: "x"}, nil,
			`expected 4 enqueued Email job with args {"to":"x"}; found 3 matching among 4 Email jobs`},
		{"TooMany", 2, emailArgs{To: "x"}, nil, "expected 2 enqueued Email job"},
		{"Zero", 0, emailArgs{To: "y"}, nil, "expected 0 enqueued Email job"},
		{"Expect", 3, emailArgs{To: "x"}, []goodjobtest.Expect{goodjobtest.Queue("other")},
			`queue "other"; found 0 matching among 4 Email jobs`},
		{"Negative", -1, emailArgs{}, nil, "RequireEnqueuedN: n is -1, want 0 or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{}
			require.Nil(t, goodjobtest.RequireEnqueuedN(ft, db.Pool, tc.n, tc.args, tc.opts...))
			require.True(t, ft.failed)
			require.Contains(t, ft.msg, tc.msg)
		})
	}
}

func TestRequireEnqueuedAtLeast(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	for _, to := range []string{"x", "x", "y"} {
		_, err := c.Enqueue(t.Context(), emailArgs{To: to})
		require.NoError(t, err)
	}

	require.Len(t, goodjobtest.RequireEnqueuedAtLeast(t, db.Pool, 1, emailArgs{To: "x"}), 2)
	require.Len(t, goodjobtest.RequireEnqueuedAtLeast(t, db.Pool, 2, emailArgs{To: "x"}), 2)
	require.Len(t, goodjobtest.RequireEnqueuedAtLeast(t, db.Pool, 1, emailArgs{},
		goodjobtest.ArgsIncluding(map[string]any{"to": "y"})), 1)

	ft := &fakeT{}
	require.Nil(t, goodjobtest.RequireEnqueuedAtLeast(ft, db.Pool, 3, emailArgs{To: "x"}))
	require.Contains(t, ft.msg, `expected at least 3 enqueued Email job with args {"to":"x"}; `+
		"found 2 matching among 3 Email jobs")
	ft = &fakeT{}
	goodjobtest.RequireEnqueuedAtLeast(ft, db.Pool, 1, emailArgs{To: "z"})
	require.Contains(t, ft.msg, "expected at least 1 enqueued Email job")
	require.Contains(t, ft.msg, "found 0 matching")
}

// TestDrainWith_Scheduled runs a failing job to the end of its retries,
// and a job scheduled for later, in one call.
func TestDrainWith_Scheduled(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	var attempts []int
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[emailArgs](
		func(_ context.Context, j *goodjob.Job[emailArgs]) error {
			if j.Args.To == "later" {
				return nil
			}
			attempts = append(attempts, j.Attempt)
			return errors.New("smtp down")
		}), goodjob.Retry(goodjob.RetryPolicy{Attempts: 4,
		Wait: goodjob.Fixed(time.Hour)})))
	ctx := t.Context()
	failing, err := c.Enqueue(ctx, emailArgs{To: "fail"})
	require.NoError(t, err)
	later, err := c.Enqueue(ctx, emailArgs{To: "later"}, goodjob.Wait(24*time.Hour))
	require.NoError(t, err)
	_, err = c.Enqueue(ctx, chainArgs{Left: 1}, goodjob.Wait(time.Hour))
	require.NoError(t, err)

	worked := goodjobtest.Drain(ctx, t, c)
	require.Len(t, worked, 1, "Drain leaves the retry for later")
	require.Equal(t, goodjob.JobStateScheduled, worked[0].State, "GoodJob's first retry")

	worked = goodjobtest.DrainWith(ctx, t, c, goodjobtest.DrainOpts{Scheduled: true})
	require.Equal(t, []int{1, 2, 3, 4}, attempts)
	require.Len(t, worked, 4, "three retries, each an hour ahead, then the job for tomorrow")
	for _, j := range worked[:2] {
		require.Equal(t, failing.ID, j.ID)
		require.Equal(t, goodjob.JobStateRetried, j.State)
	}
	require.Equal(t, failing.ID, worked[2].ID)
	require.Equal(t, goodjob.JobStateDiscarded, worked[2].State)
	require.Equal(t, goodjob.ErrorEventRetryStopped, *worked[2].ErrorEvent)
	require.Len(t, worked[2].Executions, 4)
	require.Equal(t, later.ID, worked[3].ID)
	require.Equal(t, goodjob.JobStateSucceeded, worked[3].State)
	goodjobtest.RequireEnqueued(t, db.Pool, chainArgs{Left: 1}) // no worker: left alone
	require.Empty(t, goodjobtest.DrainWith(ctx, t, c, goodjobtest.DrainOpts{Scheduled: true}))
}

func TestDrainWith_Limit(t *testing.T) {
	t.Parallel()
	db := goodjobtest.NewDB(t)
	c := newClient(t, db)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[chainArgs](
		func(context.Context, *goodjob.Job[chainArgs]) error {
			return goodjob.Snooze(time.Hour)
		})))
	_, err := c.Enqueue(t.Context(), chainArgs{})
	require.NoError(t, err)

	ft := &fakeT{}
	worked := goodjobtest.DrainWith(t.Context(), ft, c,
		goodjobtest.DrainOpts{Scheduled: true, Limit: 5})
	require.Len(t, worked, 5)
	require.Contains(t, ft.msg, "DrainWith: still finding jobs after 5 attempts; do jobs keep "+
		"enqueuing jobs, or snoozing?")

	require.Len(t, goodjobtest.DrainWith(t.Context(), t, c, goodjobtest.DrainOpts{Limit: 5}), 0,
		"without Scheduled the snoozed job waits")

	ft = &fakeT{}
	require.Nil(t, goodjobtest.DrainWith(t.Context(), ft, c, goodjobtest.DrainOpts{Limit: -1}))
	require.Contains(t, ft.msg, "DrainWith: Limit is -1, want 0 or more")
}
