package goodjob_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// TestBadInput gives every kind of bad input its outcome: a clear error
// from the call that made the mistake, or a documented end state for the
// job, and a good job enqueued around them still runs exactly once.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	ran := make(chan noopArgs, 10)
	require.NoError(t, goodjob.Register(c, recorder(ran)))
	good, err := c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	noop := goodjob.WorkFunc[otherArgs](func(context.Context, *goodjob.Job[otherArgs]) error {
		return nil
	})
	long := strings.Repeat("q", goodjob.MaxQueueNameLength+1)
	cases := []struct {
		name string
		call func() error
		want error // errors.Is target; nil: any error
	}{
		{"args not JSON", enqueue(ctx, c, badArgs{C: make(chan int)}), goodjob.ErrInvalidArgs},
		{"nil args", enqueue(ctx, c, nil), goodjob.ErrInvalidArgs},
		{"nil pointer args", enqueue(ctx, c, (*noopArgs)(nil)), goodjob.ErrInvalidArgs},
		{"empty kind", enqueue(ctx, c, emptyKind{}), goodjob.ErrInvalidArgs},
		{"empty queue", enqueue(ctx, c, noopArgs{}, goodjob.Queue("")), goodjob.ErrInvalidArgs},
		{"over-long queue", enqueue(ctx, c, noopArgs{}, goodjob.Queue(long)), goodjob.ErrInvalidArgs},
		{"negative wait", enqueue(ctx, c, noopArgs{}, goodjob.Wait(-time.Second)),
			goodjob.ErrInvalidArgs},
		{"cancelled context", enqueue(cancelled, c, noopArgs{}), context.Canceled},
		{"retry policy with zero attempts", func() error {
			return goodjob.Register(c, noop, goodjob.Retry(goodjob.RetryPolicy{Attempts: 0}))
		}, nil},
		{"config retry with zero attempts", func() error {
			_, err := goodjob.New(db.Pool, goodjob.Config{
				Retry: goodjob.RetryPolicy{Wait: goodjob.Fixed(time.Second)}})
			return err
		}, nil},
		{"nil error match", func() error {
			return goodjob.Register(c, noop, goodjob.DiscardOn(nil))
		}, nil},
	}
	for _, tc := range cases {
		err := tc.call()
		require.Error(t, err, tc.name)
		if tc.want != nil {
			require.ErrorIs(t, err, tc.want, tc.name)
		}
	}

	// Bad input that reaches the database has a defined end state: args
	// that do not match the worker's type are discarded, and a kind no
	// process knows stays queued.
	mismatched, err := c.Enqueue(ctx, noopArgs{N: 2})
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE good_jobs SET serialized_params = jsonb_set(
		serialized_params, '{arguments}', '["not an object"]') WHERE id = $1`, mismatched.ID)
	require.NoError(t, err)
	unknown, err := c.Enqueue(ctx, otherArgs{Name: "nobody works me"})
	require.NoError(t, err)
	after, err := c.Enqueue(ctx, noopArgs{N: 3})
	require.NoError(t, err)
	start(t, c)

	s := waitFinished(t, db.Pool, mismatched.ID)
	require.EqualValues(t, 5, *s.ErrorEvent, "discarded")
	require.Contains(t, *s.Error, "*goodjob.ArgsDecodeError: ")
	for _, id := range []uuid.UUID{good.ID, after.ID} {
		s := waitFinished(t, db.Pool, id)
		require.Nil(t, s.Error)
		require.Equal(t, 1, s.Executions)
	}
	got := []int{waitFor(t, ran, time.Second, "run").N, waitFor(t, ran, time.Second, "run").N}
	require.ElementsMatch(t, []int{1, 3}, got)
	u := loadJob(t, db.Pool, unknown.ID)
	require.Nil(t, u.PerformedAt)
	require.Nil(t, u.LockedByID)
	var total int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&total))
	require.Equal(t, 4, total, "rejected jobs wrote nothing")
}

// enqueue defers one Enqueue call for a table of cases.
func enqueue(ctx context.Context, c *goodjob.Client, args goodjob.Args,
	opts ...goodjob.EnqueueOption) func() error {
	return func() error {
		_, err := c.Enqueue(ctx, args, opts...)
		return err
	}
}
