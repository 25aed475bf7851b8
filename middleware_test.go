package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMiddleware_OrderInfoAndErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	var (
		mu    sync.Mutex
		trace []string
		infos []goodjob.JobInfo
	)
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		trace = append(trace, s)
	}
	named := func(name string) goodjob.Middleware {
		return func(ctx context.Context, job *goodjob.JobInfo,
			next func(context.Context) error) error {
			record(name + " before")
			err := next(ctx)
			record(fmt.Sprintf("%s after %v", name, err))
			return err
		}
	}
	failing := func(ctx context.Context, job *goodjob.JobInfo,
		next func(context.Context) error) error {
		mu.Lock()
		infos = append(infos, *job)
		mu.Unlock()
		switch job.Attempt {
		case 1:
			return errors.New("tenant not found")
		case 2:
			panic("middleware panic")
		}
		return next(ctx)
	}
	c := newClient(t, db.Pool, goodjob.Config{
		Middleware: []goodjob.Middleware{named("client")},
		Retry:      goodjob.RetryPolicy{Attempts: 3, Wait: goodjob.Fixed(time.Millisecond)},
	})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(context.Context, *goodjob.Job[noopArgs]) error {
			record("work")
			return nil
		}), goodjob.WithMiddleware(named("kind"), failing)))
	row, err := c.Enqueue(ctx, noopArgs{N: 4}, goodjob.Queue("tenants"), goodjob.Priority(3))
	require.NoError(t, err)
	start(t, c)
	s := waitFinished(t, db.Pool, row.ID)
	require.Nil(t, s.Error)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{
		"client before", "kind before", "kind after tenant not found",
		"client after tenant not found",
		"client before", "kind before",
		"client before", "kind before", "work", "kind after <nil>", "client after <nil>",
	}, trace)
	require.Len(t, infos, 3)
	for i, info := range infos {
		require.Equal(t, row.ID, info.ID)
		require.Equal(t, "NoopJob", info.Kind)
		require.Equal(t, "tenants", info.Queue)
		require.Equal(t, 3, info.Priority)
		require.Equal(t, i+1, info.Attempt)
		require.JSONEq(t, `{"n":4}`, string(info.Args))
	}
	execs := loadExecutions(t, db.Pool, row.ID)
	require.Len(t, execs, 3)
	require.Equal(t, "error: tenant not found", execs[0].Error)
	require.Equal(t, "*goodjob.PanicError: panic: middleware panic", execs[1].Error)
	require.NotEmpty(t, execs[1].Backtrace)
}
