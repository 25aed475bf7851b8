package otelgoodjob_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
	"github.com/goodjob-go/goodjob/otelgoodjob"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type emailArgs struct {
	To string `json:"to"`
}

func (emailArgs) Kind() string { return "EmailJob" }

// bundle is one test's database, span recorder and Client.
type bundle struct {
	db     *testdb.DB
	rec    *tracetest.SpanRecorder
	tracer trace.Tracer // the application's own spans
	client *goodjob.Client
	seen   chan trace.SpanContext // the span each attempt's Work sees
}

// setup makes a Client that traces into an in-memory recorder and whose
// EmailJob worker fails its first attempt and succeeds on the retry.
func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{db: testdb.New(t), rec: tracetest.NewSpanRecorder(),
		seen: make(chan trace.SpanContext, 4)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b.rec))
	b.tracer = tp.Tracer("app")
	c, err := goodjob.New(b.db.Pool, goodjob.Config{
		Propagator: otelgoodjob.New(otelgoodjob.Config{TracerProvider: tp}),
		Retry:      goodjob.RetryPolicy{Attempts: 2, Wait: goodjob.Fixed(0)},
	})
	require.NoError(t, err)
	require.NoError(t, goodjob.Register(c, goodjob.WorkFunc[emailArgs](
		func(ctx context.Context, job *goodjob.Job[emailArgs]) error {
			b.seen <- trace.SpanContextFromContext(ctx)
			if job.Attempt == 1 {
				return errors.New("smtp down")
			}
			return nil
		})))
	b.client = c
	return b
}

// work starts the Client under ctx, waits for both attempts and stops it,
// which waits for the attempts' spans to end. It returns the spans the
// attempts' Work saw.
func (b *bundle) work(t *testing.T, ctx context.Context) [2]trace.SpanContext {
	t.Helper()
	require.NoError(t, b.client.Start(ctx))
	var seen [2]trace.SpanContext
	for i := range seen {
		select {
		case seen[i] = <-b.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("attempt %d did not run", i+1)
		}
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.client.Stop(stop))
	return seen
}

// attempts returns the ended attempt spans, in order.
func (b *bundle) attempts(t *testing.T) []sdktrace.ReadOnlySpan {
	t.Helper()
	var out []sdktrace.ReadOnlySpan
	for _, s := range b.rec.Ended() {
		if s.InstrumentationScope().Name == otelgoodjob.ScopeName {
			out = append(out, s)
		}
	}
	require.Len(t, out, 2)
	return out
}

func TestPropagator_ContinuesEnqueuerTrace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, enqueuer := b.tracer.Start(t.Context(), "POST /signup")
	row, err := b.client.Enqueue(ctx, emailArgs{To: "a@example.com"})
	require.NoError(t, err)
	enqueuer.End()
	parent := enqueuer.SpanContext()

	var traceparent string
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), `SELECT
		serialized_params->'goodjob_trace_context'->>'traceparent' FROM good_jobs WHERE id = $1`,
		row.ID).Scan(&traceparent))
	require.Contains(t, traceparent, parent.TraceID().String())

	seen := b.work(t, t.Context())
	spans := b.attempts(t)
	first, retry := spans[0], spans[1]

	require.Equal(t, "process EmailJob", first.Name())
	require.Equal(t, trace.SpanKindConsumer, first.SpanKind())
	require.Equal(t, parent.TraceID(), first.SpanContext().TraceID(), "same trace")
	require.Equal(t, parent.SpanID(), first.Parent().SpanID(), "child of the enqueuer")
	require.Equal(t, codes.Error, first.Status().Code)
	require.Contains(t, first.Status().Description, "smtp down")
	require.Empty(t, first.Links())
	require.Equal(t, first.SpanContext(), seen[0], "Work runs inside the attempt's span")

	require.NotEqual(t, parent.TraceID(), retry.SpanContext().TraceID(), "a trace of its own")
	require.False(t, retry.Parent().IsValid(), "the retry is a root span")
	require.Len(t, retry.Links(), 1)
	require.Equal(t, parent.SpanID(), retry.Links()[0].SpanContext.SpanID(), "linked to the enqueuer")
	require.Equal(t, parent.TraceID(), retry.Links()[0].SpanContext.TraceID())
	require.Equal(t, codes.Unset, retry.Status().Code)
	require.Equal(t, retry.SpanContext(), seen[1])
	require.Contains(t, retry.Attributes(), attr("goodjob.job.attempt", 2))
}

// TestPropagator_NoTrace enqueues outside any span and starts the Client
// under one: nothing is stored, and the attempts are roots of their own.
func TestPropagator_NoTrace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	row, err := b.client.Enqueue(t.Context(), emailArgs{To: "b@example.com"})
	require.NoError(t, err)
	var stored bool
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), `SELECT
		serialized_params ? 'goodjob_trace_context' FROM good_jobs WHERE id = $1`,
		row.ID).Scan(&stored))
	require.False(t, stored)

	boot, span := b.tracer.Start(t.Context(), "boot")
	defer span.End()
	b.work(t, boot)
	for _, s := range b.attempts(t) {
		require.False(t, s.Parent().IsValid())
		require.NotEqual(t, span.SpanContext().TraceID(), s.SpanContext().TraceID())
		require.Empty(t, s.Links())
	}
}

// TestPropagator_EnqueueManyTx stores the trace with every job of a batch
// enqueued inside the caller's transaction.
func TestPropagator_EnqueueManyTx(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, span := b.tracer.Start(t.Context(), "import")
	defer span.End()
	tx, err := b.db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = b.client.EnqueueManyTx(ctx, tx, []goodjob.EnqueueParams{
		{Args: emailArgs{To: "c@example.com"}}, {Args: emailArgs{To: "d@example.com"}},
	})
	require.NoError(t, err)
	_, err = b.client.EnqueueTx(ctx, tx, emailArgs{To: "e@example.com"})
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	var traced int
	require.NoError(t, b.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM good_jobs
		WHERE serialized_params->'goodjob_trace_context'->>'traceparent' LIKE '%' || $1 || '%'`,
		span.SpanContext().TraceID().String()).Scan(&traced))
	require.Equal(t, 3, traced)
}

func attr(key string, v int) attribute.KeyValue { return attribute.Int(key, v) }
