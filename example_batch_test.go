package goodjob_test

import (
	"context"
	"fmt"

	"github.com/goodjob-go/goodjob"
)

// importDone is the success callback of the batch example.
type importDone struct{ goodjob.BatchCallback }

func (importDone) Kind() string { return "ImportDone" }

// A batch of jobs calls back once all of them have succeeded.
func ExampleBatch() {
	ctx := context.Background()
	client, _, drop := exampleClient(ctx)
	defer drop()

	done := make(chan struct{})
	exampleMust(goodjob.Register(client, goodjob.WorkFunc[greetArgs](
		func(ctx context.Context, job *goodjob.Job[greetArgs]) error { return nil })))
	exampleMust(goodjob.Register(client, goodjob.WorkFunc[importDone](
		func(ctx context.Context, job *goodjob.Job[importDone]) error {
			fmt.Println(job.Args.Event, job.Args.Properties["file"])
			close(done)
			return nil
		})))

	batch, err := client.NewBatch(ctx, goodjob.BatchParams{
		Properties: map[string]any{"file": "users.csv"},
		OnSuccess:  importDone{},
	})
	exampleMust(err)
	for _, name := range []string{"Ada", "Grace", "Edsger"} {
		_, err := batch.Enqueue(ctx, greetArgs{Name: name})
		exampleMust(err)
	}
	exampleMust(batch.Seal(ctx))

	exampleMust(client.Start(ctx))
	<-done
	exampleMust(client.Stop(ctx))
	status, err := client.BatchStatus(ctx, batch.ID)
	exampleMust(err)
	fmt.Println(status.Succeeded, "of", status.Jobs, "succeeded")
	// Output:
	// success users.csv
	// 3 of 3 succeeded
}

func exampleMust(err error) {
	if err != nil {
		panic(err)
	}
}
