package goodjob_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// logRecord is a captured log line: its message and attributes.
type logRecord struct {
	Msg   string
	Attrs map[string]string
}

// chanHandler sends every record at Warn or above to a channel.
type chanHandler struct {
	ch    chan<- logRecord
	attrs []slog.Attr
}

func (h chanHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	select {
	case h.ch <- rec:
	default:
	}
	return nil
}

func (h chanHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return chanHandler{ch: h.ch, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h chanHandler) WithGroup(string) slog.Handler { return h }

// waitLog returns the first captured record with message msg.
func waitLog(t *testing.T, logs <-chan logRecord, msg string) logRecord {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-logs:
			if r.Msg == msg {
				return r
			}
		case <-deadline:
			t.Fatalf("no log %q", msg)
		}
	}
}

func TestTimeout_CancelsContextAndReportsOverrun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	logs := make(chan logRecord, 100)
	c := newClient(t, db.Pool, goodjob.Config{Queues: "*:1",
		Logger: slog.New(chanHandler{ch: logs})})
	causes := make(chan error, 10)
	release := make(chan struct{})
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
		func(ctx context.Context, j *goodjob.Job[noopArgs]) error {
			if j.Args.N == 1 {
				<-ctx.Done()
				causes <- ctx.Err()
				return goodjob.Discard(ctx.Err())
			}
			if j.Args.N == 2 {
				<-release // ignores its context
			}
			causes <- nil
			return nil
		}), goodjob.Timeout(50*time.Millisecond)))
	polite, err := c.Enqueue(ctx, noopArgs{N: 1})
	require.NoError(t, err)
	start(t, c)
	require.ErrorIs(t, waitFor(t, causes, 10*time.Second, "timeout"), context.DeadlineExceeded)
	s := waitFinished(t, db.Pool, polite.ID)
	require.Contains(t, *s.Error, "context deadline exceeded")

	stubborn, err := c.Enqueue(ctx, noopArgs{N: 2})
	require.NoError(t, err)
	next, err := c.Enqueue(ctx, noopArgs{N: 3})
	require.NoError(t, err)
	r := waitLog(t, logs, "job ignores its cancelled context; its slot stays taken until it returns")
	require.Equal(t, stubborn.ID.String(), r.Attrs["job_id"])
	require.Equal(t, "NoopJob", r.Attrs["kind"])
	n := loadJob(t, db.Pool, next.ID)
	require.Nil(t, n.PerformedAt, "the only slot is still taken")

	close(release)
	require.NoError(t, waitFor(t, causes, 10*time.Second, "stubborn job returns"))
	r = waitLog(t, logs, "job returned after ignoring its cancelled context")
	require.Equal(t, stubborn.ID.String(), r.Attrs["job_id"])
	require.NoError(t, waitFor(t, causes, 10*time.Second, "next job runs"))
	waitFinished(t, db.Pool, next.ID)
}

// slowArgs is a kind that has a Timeout of its own.
type slowArgs struct {
	N int `json:"n"`
}

func (slowArgs) Kind() string { return "SlowJob" }

func TestConfigTimeout(t *testing.T) {
	t.Parallel()

	t.Run("CutsOffKindsWithoutTheirOwn", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)
		c := newClient(t, db.Pool, goodjob.Config{Queues: "*:2", Timeout: 50 * time.Millisecond,
			Retry: goodjob.RetryPolicy{Attempts: 2, Wait: goodjob.Fixed(time.Millisecond)}})
		causes := make(chan error, 10)
		require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[noopArgs](
			func(ctx context.Context, j *goodjob.Job[noopArgs]) error {
				if j.Attempt > 1 {
					causes <- nil
					return nil
				}
				<-ctx.Done()
				causes <- ctx.Err()
				return ctx.Err()
			})))
		row, err := c.Enqueue(ctx, noopArgs{})
		require.NoError(t, err)
		start(t, c)

		require.ErrorIs(t, waitFor(t, causes, 10*time.Second, "the cut-off attempt"),
			context.DeadlineExceeded)
		require.NoError(t, waitFor(t, causes, 10*time.Second, "the retry"))
		s := waitFinished(t, db.Pool, row.ID)
		require.Nil(t, s.Error, "the retry succeeded")
		require.Equal(t, 2, s.Executions)
		execs := loadExecutions(t, db.Pool, row.ID)
		require.Len(t, execs, 2)
		require.Contains(t, execs[0].Error, "context deadline exceeded")
		require.NotNil(t, execs[0].ErrorEvent)
		require.Equal(t, goodjob.ErrorEventRetried, goodjob.ErrorEvent(*execs[0].ErrorEvent))
		require.Empty(t, execs[1].Error)
	})

	t.Run("KindTimeoutWins", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		db := testdb.New(t)
		c := newClient(t, db.Pool, goodjob.Config{Queues: "*:2", Timeout: 20 * time.Millisecond})
		type outcome struct {
			err         error
			hasDeadline bool
		}
		outcomes := make(chan outcome, 10)
		// Each kind outlives Config.Timeout many times over before it
		// returns, unless its context is cancelled first.
		outlive := func(ctx context.Context) error {
			_, ok := ctx.Deadline()
			select {
			case <-ctx.Done():
				outcomes <- outcome{ctx.Err(), ok}
				return ctx.Err()
			case <-time.After(10 * 20 * time.Millisecond):
				outcomes <- outcome{nil, ok}
				return nil
			}
		}
		require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[slowArgs](
			func(ctx context.Context, _ *goodjob.Job[slowArgs]) error { return outlive(ctx) }),
			goodjob.Timeout(time.Hour)))
		require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[otherArgs](
			func(ctx context.Context, _ *goodjob.Job[otherArgs]) error { return outlive(ctx) }),
			goodjob.Timeout(0)))
		slow, err := c.Enqueue(ctx, slowArgs{})
		require.NoError(t, err)
		start(t, c)
		o := waitFor(t, outcomes, 10*time.Second, "the job with its own Timeout")
		require.NoError(t, o.err, "not cut off at Config.Timeout")
		require.True(t, o.hasDeadline, "its own Timeout applies")
		require.Nil(t, waitFinished(t, db.Pool, slow.ID).Error)

		unlimited, err := c.Enqueue(ctx, otherArgs{})
		require.NoError(t, err)
		o = waitFor(t, outcomes, 10*time.Second, "the job with Timeout(0)")
		require.NoError(t, o.err)
		require.False(t, o.hasDeadline, "Timeout(0) opts out of Config.Timeout")
		require.Nil(t, waitFinished(t, db.Pool, unlimited.ID).Error)
	})

	t.Run("NegativeRejected", func(t *testing.T) {
		t.Parallel()
		db := testdb.New(t)
		_, err := goodjob.New(db.Pool, goodjob.Config{Timeout: -time.Second})
		require.EqualError(t, err, "goodjob: Config.Timeout is -1s, want 0 or more")
	})
}
