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
	cleanupOlderThanDefault = goodjob.CleanupPreservedJobsBeforeDefault
	cleanupBatchDefault     = goodjob.CleanupBatchSizeDefault
)

func init() {
	register(&Command{
		Name: "cleanup",
		Args: "[--older-than 336h] [--batch-size 1000] [--include-discarded=true]",
		Summary: "Delete jobs that finished over --older-than ago, with their executions.\n" +
			"Finished batches go too, --batch-size rows per statement so that none\n" +
			"holds many locks for long. Started clients also do this on their own.",
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
		res, err := client.Cleanup(ctx, goodjob.CleanupOptions{
			Before: time.Now().Add(-*olderThan), BatchSize: *batch, KeepDiscarded: !*discarded,
		})
		if err != nil {
			return fmt.Errorf("cleanup stopped after deleting %d jobs: %w", res.Jobs, err)
		}
		fmt.Fprintf(env.Stdout, "deleted %d jobs, %d executions and %d batches finished before %s\n",
			res.Jobs, res.Executions, res.Batches, res.Before.Format(time.RFC3339))
		return nil
	}
}
