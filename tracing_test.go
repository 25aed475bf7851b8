package goodjob_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

type traceKey struct{}

// fakePropagator carries a string from the enqueuing context to the
// attempts' contexts, and reports how each attempt ended.
type fakePropagator struct{ ended chan attemptEnd }

type attemptEnd struct {
	id      uuid.UUID
	attempt int
	carrier map[string]string
	err     error
}

func (p fakePropagator) Inject(ctx context.Context) map[string]string {
	if v, ok := ctx.Value(traceKey{}).(string); ok {
		return map[string]string{"trace": v}
	}
	return nil
}

func (p fakePropagator) Start(ctx context.Context, carrier map[string]string,
	job *goodjob.JobInfo) (context.Context, func(error)) {
	ctx = context.WithValue(ctx, traceKey{}, "continued "+carrier["trace"])
	return ctx, func(err error) {
		p.ended <- attemptEnd{id: job.ID, attempt: job.Attempt, carrier: carrier, err: err}
	}
}

// TestClient_Propagator: the carrier travels with the job through a snooze
// and a retry, Work runs in the context Start returned, end sees each
// attempt's error (none for a snooze), and an unreadable stored carrier
// reaches Start as nil without failing the job.
func TestClient_Propagator(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	prop := fakePropagator{ended: make(chan attemptEnd, 8)}
	c := newClient(t, db.Pool, goodjob.Config{
		Propagator: prop,
		Retry:      goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(0)},
	})
	var runs atomic.Int32 // of the job with N 1
	seen := make(chan string, 8)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, job *goodjob.Job[noopArgs]) error {
			seen <- ctx.Value(traceKey{}).(string)
			if job.Args.N != 1 {
				return nil
			}
			switch runs.Add(1) {
			case 1:
				return goodjob.Snooze(0)
			case 2:
				return errors.New("flaky")
			}
			return nil
		})))

	ctx := context.WithValue(t.Context(), traceKey{}, "t1")
	traced, err := c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)
	bad, err := c.Enqueue(ctx, noopArgs{N: 2})
	require.NoError(t, err)
	_, err = db.Pool.Exec(t.Context(), `UPDATE good_jobs SET serialized_params =
		jsonb_set(serialized_params, '{goodjob_trace_context}', '[1, 2]') WHERE id = $1`, bad.ID)
	require.NoError(t, err)
	start(t, c)

	var ends []attemptEnd
	for range 4 {
		e := waitFor(t, prop.ended, 10*time.Second, "an attempt to end")
		if e.id == bad.ID {
			require.Nil(t, e.carrier)
			require.NoError(t, e.err)
			continue
		}
		ends = append(ends, e)
	}
	require.Len(t, ends, 3)
	for _, e := range ends {
		require.Equal(t, map[string]string{"trace": "t1"}, e.carrier)
	}
	require.Equal(t, []int{1, 1, 2}, []int{ends[0].attempt, ends[1].attempt, ends[2].attempt})
	require.NoError(t, ends[0].err, "a snooze is no failure")
	require.ErrorContains(t, ends[1].err, "flaky")
	require.NoError(t, ends[2].err)

	got := map[string]int{}
	for range 4 {
		got[waitFor(t, seen, time.Second, "work")]++
	}
	require.Equal(t, map[string]int{"continued t1": 3, "continued ": 1}, got)
	require.NoError(t, c.Stop(t.Context())) // writes the last completions
	require.NotNil(t, loadJob(t, db.Pool, traced.ID).FinishedAt)
}
