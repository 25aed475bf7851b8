package otelgoodjob_test

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/otelgoodjob"
)

// A Client whose jobs continue the traces of the requests that enqueue
// them. Without a TracerProvider the global one is used.
func ExampleNew() {
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:5432/app")
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	tp := sdktrace.NewTracerProvider() // with the exporter of your choice
	client, err := goodjob.New(pool, goodjob.Config{
		Propagator: otelgoodjob.New(otelgoodjob.Config{TracerProvider: tp}),
	})
	if err != nil {
		panic(err)
	}
	_ = client
}
