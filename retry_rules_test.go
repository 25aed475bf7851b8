package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

var errGone = errors.New("record gone")

// jobError is one call of a JobErrorFunc.
type jobError struct {
	hook    string
	attempt int
	err     error
}

// recordTo returns a JobErrorFunc that sends its calls, named hook, to ch.
func recordTo(ch chan<- jobError, hook string) goodjob.JobErrorFunc {
	return func(_ context.Context, job *goodjob.JobInfo, err error) {
		ch <- jobError{hook: hook, attempt: job.Attempt, err: err}
	}
}

func TestConfigErrorRules_DiscardOnAppliesToEveryKind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	calls := make(chan jobError, 10)
	c := newClient(t, db.Pool, goodjob.Config{ErrorRules: []goodjob.WorkerOption{
		goodjob.DiscardOn(goodjob.MatchIs(errGone), recordTo(calls, "DiscardOn")),
		goodjob.OnDiscarded(recordTo(calls, "OnDiscarded")),
	}})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			return fmt.Errorf("load user: %w", errGone)
		})))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	s := waitFinished(t, db.Pool, row.ID)
	require.EqualValues(t, 5, *s.ErrorEvent, "discarded, not retried")
	require.Equal(t, "error: load user: record gone", *s.Error)
	require.Equal(t, 1, s.Executions)
	// Callbacks run before the outcome is written, so all have run by now.
	require.Len(t, calls, 2)
	first, second := <-calls, <-calls
	require.Equal(t, "DiscardOn", first.hook, "the rule's callback runs first")
	require.Equal(t, "OnDiscarded", second.hook)
	require.ErrorIs(t, second.err, errGone)
}

func TestConfigErrorRules_KindRuleWins(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	calls := make(chan jobError, 10)
	c := newClient(t, db.Pool, goodjob.Config{ErrorRules: []goodjob.WorkerOption{
		goodjob.DiscardOn(goodjob.MatchIs(errTimeout), recordTo(calls, "client DiscardOn")),
		goodjob.OnExhausted(recordTo(calls, "client OnExhausted")),
	}})
	var runs atomic.Int32
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			runs.Add(1)
			return fmt.Errorf("call api: %w", errTimeout)
		}),
		goodjob.RetryOn(goodjob.MatchIs(errTimeout),
			goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Millisecond)}),
		goodjob.OnExhausted(recordTo(calls, "kind OnExhausted")),
	))
	row, err := c.Enqueue(ctx, noopArgs{})
	require.NoError(t, err)
	start(t, c)

	s := waitFinished(t, db.Pool, row.ID)
	require.EqualValues(t, 4, *s.ErrorEvent, "retry_stopped: the kind's RetryOn decided")
	require.EqualValues(t, 3, runs.Load())
	require.Equal(t, 3, s.Executions)
	require.Len(t, calls, 2, "no DiscardOn callback, one exhausted hook of each level")
	require.Equal(t, jobError{hook: "kind OnExhausted", attempt: 3,
		err: fmt.Errorf("call api: %w", errTimeout)}, <-calls)
	require.Equal(t, "client OnExhausted", (<-calls).hook)
}

func TestConfigErrorRules_OnExhaustedFiresOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	calls := make(chan jobError, 10)
	c := newClient(t, db.Pool, goodjob.Config{
		Retry: goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Millisecond)},
		ErrorRules: []goodjob.WorkerOption{
			goodjob.OnExhausted(recordTo(calls, "OnExhausted")),
			goodjob.OnDiscarded(recordTo(calls, "OnDiscarded")),
		},
	})
	attempts := make(chan int, 10)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[otherArgs](
		func(_ context.Context, j *goodjob.Job[otherArgs]) error {
			attempts <- j.Attempt
			return errors.New("always fails")
		})))
	row, err := c.Enqueue(ctx, otherArgs{Name: "x"})
	require.NoError(t, err)
	start(t, c)

	for want := 1; want <= 3; want++ {
		require.Equal(t, want, waitFor(t, attempts, 10*time.Second, "an attempt"))
		if want < 3 {
			require.Empty(t, calls, "no hook before the last attempt")
		}
	}
	s := waitFinished(t, db.Pool, row.ID)
	require.EqualValues(t, 4, *s.ErrorEvent)
	require.Len(t, calls, 2)
	got := <-calls
	require.Equal(t, "OnExhausted", got.hook)
	require.Equal(t, 3, got.attempt)
	require.EqualError(t, got.err, "always fails")
	require.Equal(t, "OnDiscarded", (<-calls).hook, "a job given up is also discarded")
}

func TestNew_InvalidErrorRules(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	tests := []struct {
		name   string
		opts   []goodjob.WorkerOption
		reason string
	}{
		{"Nil", []goodjob.WorkerOption{goodjob.OnExhausted(nil), nil},
			"Config.ErrorRules[1] is nil"},
		{"Timeout", []goodjob.WorkerOption{goodjob.Timeout(time.Second)},
			"Config.ErrorRules[0] is not RetryOn"},
		{"Retry", []goodjob.WorkerOption{goodjob.Retry(goodjob.DefaultRetryPolicy())},
			"Config.Retry"},
		{"NilMatch", []goodjob.WorkerOption{goodjob.DiscardOn(nil)},
			"Config.ErrorRules[0]: error rule 1 has a nil match"},
		{"NoAttempts", []goodjob.WorkerOption{
			goodjob.DiscardOn(goodjob.MatchIs(errGone)),
			goodjob.RetryOn(goodjob.MatchIs(errTimeout), goodjob.RetryPolicy{}),
		}, "Config.ErrorRules[1]: RetryOn rule 1: retry attempts is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := goodjob.New(db.Pool, goodjob.Config{ErrorRules: tt.opts})
			require.ErrorContains(t, err, tt.reason)
		})
	}
}
