package goodjobcli

import (
	"context"
	"fmt"
	"time"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

// Defaults of the cleanup command, GoodJob's.
const (
	cleanupOlderThanDefault = 14 * 24 * time.Hour
	cleanupBatchDefault     = 1000
)

func init() {
	register(&Command{
		Name: "cleanup",
		Args: "[--older-than 336h] [--batch-size 1000] [--include-discarded=true]",
		Summary: "Delete jobs that finished over --older-than ago, with their executions.\n" +
			"Rows go in batches so that no statement holds many locks for long.",
		Flags: cleanupFlags,
	})
}

func cleanupFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	url := dbFlag(fs)
	olderThan := fs.Duration("older-than", "GOOD_JOB_CLEANUP_PRESERVED_JOBS_BEFORE_SECONDS_AGO",
		cleanupOlderThanDefault, "delete jobs that finished longer ago than this")
	batch := fs.Int("batch-size", "", cleanupBatchDefault, "jobs deleted per statement")
	discarded := fs.Bool("include-discarded", "GOOD_JOB_CLEANUP_DISCARDED_JOBS", true,
		"also delete discarded jobs, not only succeeded ones")
	return func(ctx context.Context, args []string) error {
		switch {
		case len(args) > 0:
			return usagef("unexpected arguments %q", args)
		case *olderThan < 0:
			return usagef("--older-than is %s, want 0 or more", *olderThan)
		case *batch < 1:
			return usagef("--batch-size is %d, want 1 or more", *batch)
		}
		client, closeDB, err := openClient(ctx, *url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		f := goodjob.JobFilter{FinishedBefore: time.Now().Add(-*olderThan), Limit: *batch,
			States: []goodjob.JobState{goodjob.JobStateSucceeded}}
		if *discarded {
			f.States = append(f.States, goodjob.JobStateDiscarded)
		}
		total, err := deleteInBatches(ctx, client, f)
		if err != nil {
			return fmt.Errorf("cleanup stopped after deleting %d jobs: %w", total, err)
		}
		fmt.Fprintf(env.Stdout, "deleted %d jobs finished before %s\n", total,
			f.FinishedBefore.UTC().Format(time.RFC3339))
		return nil
	}
}

// deleteInBatches deletes until a batch comes back short, or ctx ends.
func deleteInBatches(ctx context.Context, client *goodjob.Client, f goodjob.JobFilter) (int, error) {
	total := 0
	for {
		n, err := client.DeleteJobs(ctx, f)
		total += n
		if err != nil {
			return total, err
		}
		if n < f.Limit {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
