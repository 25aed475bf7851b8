package goodjob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// greetArgs is the job of the examples below.
type greetArgs struct {
	Name string `json:"name"`
}

func (greetArgs) Kind() string { return "GreetJob" }

// exampleClient opens a fresh database and a Client on it that logs nothing.
func exampleClient(ctx context.Context) (*goodjob.Client, *testdb.DB, func()) {
	db, drop, err := testdb.Open(ctx)
	if err != nil {
		panic(err)
	}
	client, err := goodjob.New(db.Pool, goodjob.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	return client, db, drop
}

// A job is enqueued with options, then worked by the Client's pools.
func ExampleClient_Enqueue() {
	ctx := context.Background()
	client, _, drop := exampleClient(ctx)
	defer drop()

	done := make(chan struct{})
	err := goodjob.Register(client, goodjob.WorkFunc[greetArgs](
		func(ctx context.Context, job *goodjob.Job[greetArgs]) error {
			fmt.Printf("hello %s from queue %s, attempt %d\n",
				job.Args.Name, job.Queue, job.Attempt)
			close(done)
			return nil
		}))
	if err != nil {
		panic(err)
	}

	row, err := client.Enqueue(ctx, greetArgs{Name: "Ada"},
		goodjob.Queue("mailers"), goodjob.Priority(-10))
	if err != nil {
		panic(err)
	}
	fmt.Println(row.Kind, row.Queue, row.Priority)

	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	<-done
	if err := client.Stop(ctx); err != nil {
		panic(err)
	}
	// Output:
	// GreetJob mailers -10
	// hello Ada from queue mailers, attempt 1
}

// EnqueueTx writes the job in the caller's transaction: a rollback leaves
// no job behind, a commit leaves one.
func ExampleClient_EnqueueTx() {
	ctx := context.Background()
	client, db, drop := exampleClient(ctx)
	defer drop()

	for _, commit := range []bool{false, true} {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			panic(err)
		}
		if _, err := client.EnqueueTx(ctx, tx, greetArgs{Name: "Grace"}); err != nil {
			panic(err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			panic(err)
		}
		var n int
		err = db.Pool.QueryRow(ctx, "SELECT count(*) FROM good_jobs").Scan(&n)
		if err != nil {
			panic(err)
		}
		fmt.Printf("commit %v: %d job(s)\n", commit, n)
	}
	// Output:
	// commit false: 0 job(s)
	// commit true: 1 job(s)
}

// errFlaky is what the first attempts of the retry example return.
var errFlaky = errors.New("mail server busy")

// A failing job runs again under its kind's RetryPolicy, on the same row.
func ExampleRetry() {
	ctx := context.Background()
	client, _, drop := exampleClient(ctx)
	defer drop()

	done := make(chan struct{})
	err := goodjob.Register(client, goodjob.WorkFunc[greetArgs](
		func(ctx context.Context, job *goodjob.Job[greetArgs]) error {
			if job.Attempt < 3 {
				fmt.Printf("attempt %d: %v\n", job.Attempt, errFlaky)
				return errFlaky
			}
			fmt.Printf("attempt %d: sent\n", job.Attempt)
			close(done)
			return nil
		}),
		goodjob.Retry(goodjob.RetryPolicy{Attempts: 5, Wait: goodjob.Fixed(10 * time.Millisecond)}))
	if err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	if _, err := client.Enqueue(ctx, greetArgs{Name: "Linus"}); err != nil {
		panic(err)
	}
	<-done
	if err := client.Stop(ctx); err != nil {
		panic(err)
	}
	// Output:
	// attempt 1: mail server busy
	// attempt 2: mail server busy
	// attempt 3: sent
}
