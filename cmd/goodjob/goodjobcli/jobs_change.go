package goodjobcli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
)

// jobAction is one change of the jobs command, by id and by filter.
type jobAction struct {
	done  string // past tense, for the report
	byID  func(ctx context.Context, c *goodjob.Client, id uuid.UUID, at time.Time) error
	bulk  func(ctx context.Context, c *goodjob.Client, f goodjob.JobFilter, at time.Time) (int, error)
	needs string // "at" when the action needs --at or --in
}

var jobActions = map[string]jobAction{
	"retry":   timeless("retried", (*goodjob.Client).RetryJob, (*goodjob.Client).RetryJobs),
	"discard": timeless("discarded", (*goodjob.Client).DiscardJob, (*goodjob.Client).DiscardJobs),
	"delete":  timeless("deleted", (*goodjob.Client).DeleteJob, (*goodjob.Client).DeleteJobs),
	"reschedule": {
		done:  "rescheduled",
		needs: "at",
		byID: func(ctx context.Context, c *goodjob.Client, id uuid.UUID, at time.Time) error {
			return c.RescheduleJob(ctx, id, at)
		},
		bulk: func(ctx context.Context, c *goodjob.Client, f goodjob.JobFilter,
			at time.Time) (int, error) {
			return c.RescheduleJobs(ctx, f, at)
		},
	},
}

// forceDiscard is discard --force: by id only, because it takes jobs from
// their workers, which no filter should do by accident.
var forceDiscard = jobAction{
	done: "force-discarded",
	byID: func(ctx context.Context, c *goodjob.Client, id uuid.UUID, _ time.Time) error {
		return c.ForceDiscardJob(ctx, id)
	},
}

// timeless makes a jobAction of a change that takes no time.
func timeless(done string,
	byID func(*goodjob.Client, context.Context, uuid.UUID) error,
	bulk func(*goodjob.Client, context.Context, goodjob.JobFilter) (int, error),
) jobAction {
	return jobAction{
		done: done,
		byID: func(ctx context.Context, c *goodjob.Client, id uuid.UUID, _ time.Time) error {
			return byID(c, ctx, id)
		},
		bulk: func(ctx context.Context, c *goodjob.Client, f goodjob.JobFilter,
			_ time.Time) (int, error) {
			return bulk(c, ctx, f)
		},
	}
}

// changeJobs runs a change on the ids in args, or on the filter flags.
func changeJobs(ctx context.Context, client *goodjob.Client, name string, o jobsOpts,
	args []string, env *Env) error {
	act, ok := jobActions[name]
	if !ok {
		return usagef("unknown action %q, want list, retry, discard, delete or reschedule", name)
	}
	if *o.force {
		if name != "discard" {
			return usagef("--force applies to discard only")
		}
		if len(args) == 0 {
			return usagef("discard --force takes job ids, not filter flags")
		}
		act = forceDiscard
	}
	at, err := o.rescheduleAt(act.needs == "at")
	if err != nil {
		return err
	}
	f, err := o.filter()
	if err != nil {
		return err
	}
	if *o.after != "" {
		return usagef("--after applies to list only")
	}
	if len(args) == 0 {
		n, err := act.bulk(ctx, client, f, at)
		if errors.Is(err, goodjob.ErrInvalidFilter) {
			return usagef("%v: give job ids, or filter flags such as --state or --queue", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s %d jobs\n", act.done, n)
		return nil
	}
	if f.States != nil || f.Queue != "" || f.Kind != "" || f.Label != "" || f.Search != "" ||
		f.CronKey != "" {
		return usagef("give job ids or filter flags, not both")
	}
	ids := make([]uuid.UUID, len(args))
	for i, a := range args {
		if ids[i], err = uuid.Parse(a); err != nil {
			return usagef("%q is not a job id (a UUID)", a)
		}
	}
	return changeByID(ctx, client, act, ids, at, env)
}

// changeByID changes each job, reports each refusal and fails if any.
func changeByID(ctx context.Context, client *goodjob.Client, act jobAction, ids []uuid.UUID,
	at time.Time, env *Env) error {
	failed := 0
	for _, id := range ids {
		err := act.byID(ctx, client, id, at)
		switch {
		case err == nil:
			fmt.Fprintf(env.Stdout, "%s %s\n", act.done, id)
			continue
		case errors.Is(err, goodjob.ErrJobRunning) && act.done == "discarded":
			err = fmt.Errorf("%w; wait for the attempt to end, or discard it with --force", err)
		case errors.Is(err, goodjob.ErrJobRunning):
			err = fmt.Errorf("%w; wait for the attempt to end, or stop its worker", err)
		case errors.Is(err, goodjob.ErrJobState):
			err = fmt.Errorf("%w; see 'goodjob jobs --help' for what each action accepts", err)
		case !errors.Is(err, goodjob.ErrJobNotFound):
			return err
		}
		fmt.Fprintf(env.Stderr, "goodjob jobs: %v\n", err)
		failed++
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d jobs not changed", failed, len(ids))
	}
	return nil
}

// rescheduleAt reads --at or --in; exactly one is needed when need is set.
func (o jobsOpts) rescheduleAt(need bool) (time.Time, error) {
	switch {
	case !need && (*o.at != "" || *o.in != 0):
		return time.Time{}, usagef("--at and --in apply to reschedule only")
	case !need:
		return time.Time{}, nil
	case *o.at != "" && *o.in != 0:
		return time.Time{}, usagef("give --at or --in, not both")
	case *o.in != 0:
		return time.Now().Add(*o.in), nil
	case *o.at == "":
		return time.Time{}, usagef("reschedule needs --at TIME or --in DURATION")
	}
	if *o.at == "now" {
		return time.Now(), nil
	}
	at, err := time.Parse(time.RFC3339, *o.at)
	if err != nil {
		return time.Time{}, usagef("--at %q is not an RFC 3339 time such as 2030-01-02T15:04:05Z",
			*o.at)
	}
	return at, nil
}
