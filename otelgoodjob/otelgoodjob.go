// Package otelgoodjob traces goodjob jobs with OpenTelemetry. Set
// [goodjob.Config.Propagator] to a [Propagator]: a job enqueued under a
// span stores that span's trace context, and each attempt of the job runs
// in a span of its own that continues the trace. The first attempt is a
// child of the enqueuer's span; a retry starts a new trace linked to it,
// so a job retried for days does not stretch the enqueuing request's trace.
//
// The core package goodjob imports no OpenTelemetry; only programs that
// import this package pull it in.
package otelgoodjob

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/goodjob-go/goodjob"
)

// ScopeName is the instrumentation scope of the spans this package starts.
const ScopeName = "github.com/goodjob-go/goodjob/otelgoodjob"

// Config configures a [Propagator]. The zero value of every field means its
// documented default.
type Config struct {
	// TracerProvider makes the tracer of the attempts' spans. Default: the
	// global provider, otel.GetTracerProvider().
	TracerProvider trace.TracerProvider

	// TextMapPropagator writes the trace context into the job and reads it
	// back. Default: propagation.TraceContext, the W3C traceparent and
	// tracestate headers, whatever the global propagator is.
	TextMapPropagator propagation.TextMapPropagator
}

// Propagator implements [goodjob.Propagator] with OpenTelemetry.
type Propagator struct {
	tracer trace.Tracer
	text   propagation.TextMapPropagator
}

var _ goodjob.Propagator = (*Propagator)(nil)

// New returns a Propagator configured by cfg.
func New(cfg Config) *Propagator {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	text := cfg.TextMapPropagator
	if text == nil {
		text = propagation.TraceContext{}
	}
	return &Propagator{tracer: tp.Tracer(ScopeName), text: text}
}

// Inject returns the trace context of ctx, or nil when ctx carries no span.
func (p *Propagator) Inject(ctx context.Context) map[string]string {
	carrier := propagation.MapCarrier{}
	p.text.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return nil
	}
	return carrier
}

// Start begins the span of one attempt, of kind consumer and named
// "process <kind>". Attempt 1 is a child of the span stored in carrier;
// later attempts, and jobs stored without a trace, start a new trace, linked
// to the stored span when there is one. The span records the attempt's
// error and ends when the attempt returns.
func (p *Propagator) Start(ctx context.Context, carrier map[string]string,
	job *goodjob.JobInfo) (context.Context, func(error)) {
	remote := trace.SpanContextFromContext(
		p.text.Extract(context.Background(), propagation.MapCarrier(carrier)))
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "goodjob"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", job.Queue),
			attribute.String("messaging.message.id", job.ID.String()),
			attribute.String("goodjob.job.kind", job.Kind),
			attribute.Int("goodjob.job.attempt", job.Attempt),
		),
	}
	if remote.IsValid() {
		// Extract onto ctx, not only the span context, so that whatever
		// else the propagator carries (baggage) reaches the job too.
		ctx = p.text.Extract(ctx, propagation.MapCarrier(carrier))
		if job.Attempt > 1 {
			opts = append(opts, trace.WithNewRoot(),
				trace.WithLinks(trace.Link{SpanContext: remote}))
		}
	} else {
		// The Client's own context may carry a span (the one Start was
		// called under); an attempt never belongs to it.
		opts = append(opts, trace.WithNewRoot())
	}
	ctx, span := p.tracer.Start(ctx, "process "+job.Kind, opts...)
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
