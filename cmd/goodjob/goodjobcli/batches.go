package goodjobcli

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name: "batches",
		Args: "retry ID...",
		Summary: "Retry every discarded job of each batch and reopen the batch, so its\n" +
			"callbacks are enqueued again once the jobs finish. Running jobs are never\n" +
			"changed.",
		Flags: batchesFlags,
	})
}

func batchesFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	url := dbFlag(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 || args[0] != "retry" {
			return usagef("name an action: retry")
		}
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		if fs.NArg() == 0 {
			return usagef("retry needs batch ids")
		}
		ids := make([]uuid.UUID, fs.NArg())
		for i, a := range fs.Args() {
			var err error
			if ids[i], err = uuid.Parse(a); err != nil {
				return usagef("%q is not a batch id (a UUID)", a)
			}
		}
		client, closeDB, err := openClient(ctx, *url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		return retryBatches(ctx, client, ids, env)
	}
}

// retryBatches retries each batch, reports unknown ones and fails if any.
func retryBatches(ctx context.Context, client *goodjob.Client, ids []uuid.UUID,
	env *Env) error {
	missing := 0
	for _, id := range ids {
		n, err := client.RetryBatch(ctx, id)
		switch {
		case errors.Is(err, goodjob.ErrBatchNotFound):
			fmt.Fprintf(env.Stderr, "goodjob batches: %v\n", err)
			missing++
		case err != nil:
			return err
		default:
			fmt.Fprintf(env.Stdout, "retried %d jobs of batch %s\n", n, id)
		}
	}
	if missing > 0 {
		return fmt.Errorf("%d of %d batches not found", missing, len(ids))
	}
	return nil
}
