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
