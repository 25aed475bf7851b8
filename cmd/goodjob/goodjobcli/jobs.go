package goodjobcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name: "jobs",
		Args: "list|retry|discard|delete|reschedule [flags] [ID...]",
		Summary: "List jobs, or retry, discard, delete or reschedule them by id or by filter.\n\n" +
			"  list        newest first, one page (--limit, then --after the printed cursor)\n" +
			"  retry       run discarded jobs again now\n" +
			"  discard     finish waiting jobs without running them; with --force and ids,\n" +
			"              running ones too (their workers are not stopped)\n" +
			"  delete      delete jobs and their executions\n" +
			"  reschedule  move waiting jobs to --at TIME or --in DURATION\n\n" +
			"Changes take job ids as arguments, or else the filter flags (at least one).\n" +
			"Running jobs are changed only by discard --force.",
		Flags: jobsFlags,
	})
}

// jobsOpts are the jobs command's flags.
type jobsOpts struct {
	url                                *string
	states, queue, kind, label, search *string
	cron                               *string
	limit                              *int
	after, at                          *string
	in                                 *time.Duration
	asJSON, force                      *bool
}

func jobsFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	o := jobsOpts{
		url:    dbFlag(fs),
		states: fs.String("state", "", "", "comma-separated states: "+statesList()),
		queue:  fs.String("queue", "", "", "only jobs in this queue"),
		kind:   fs.String("kind", "", "", "only jobs of this kind (job_class)"),
		label:  fs.String("label", "", "", "only jobs with this label"),
		search: fs.String("search", "", "", "only jobs whose args or error contain this text"),
		cron:   fs.String("cron", "", "", "only jobs the cron entry of this key enqueued"),
		limit: fs.Int("limit", "", 0,
			"list: page size (default 50); changes: change at most this many"),
		after: fs.String("after", "", "", "list: the cursor printed after the previous page"),
		at: fs.String("at", "", "",
			"reschedule: an RFC 3339 time such as 2030-01-02T15:04:05Z, or now"),
		in:     fs.Duration("in", "", 0, "reschedule: this long from now, e.g. 10m"),
		asJSON: fs.Bool("json", "", false, "list: write JSON"),
		force: fs.Bool("force", "", false,
			"discard: also discard running jobs, given by id (GoodJob's force discard)"),
	}
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usagef("name an action: list, retry, discard, delete or reschedule")
		}
		action := args[0]
		// Flags may also follow the action: "jobs list --state queued".
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		client, closeDB, err := openClient(ctx, *o.url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		if action == "list" {
			return listJobs(ctx, client, o, fs.Args(), env)
		}
		return changeJobs(ctx, client, action, o, fs.Args(), env)
	}
}

func statesList() string {
	names := make([]string, len(goodjob.JobStates))
	for i, s := range goodjob.JobStates {
		names[i] = string(s)
	}
	return strings.Join(names, ",")
}

// filter builds the JobFilter the flags describe.
func (o jobsOpts) filter() (goodjob.JobFilter, error) {
	f := goodjob.JobFilter{
		Queue: *o.queue, Kind: *o.kind, Label: *o.label, Search: *o.search,
		CronKey: *o.cron, Limit: *o.limit, After: *o.after,
	}
	if *o.limit < 0 {
		return f, usagef("--limit is %d, want 0 or more", *o.limit)
	}
	for s := range strings.SplitSeq(*o.states, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		st, err := goodjob.ParseJobState(s)
		if err != nil {
			return f, usagef("--state: unknown state %q, want one of %s", s, statesList())
		}
		f.States = append(f.States, st)
	}
	return f, nil
}

func listJobs(ctx context.Context, client *goodjob.Client, o jobsOpts, args []string,
	env *Env) error {
	if len(args) > 0 {
		return usagef("list takes no arguments, got %q", args)
	}
	f, err := o.filter()
	if err != nil {
		return err
	}
	page, err := client.Jobs(ctx, f)
	if errors.Is(err, goodjob.ErrInvalidFilter) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if *o.asJSON {
		return writeJobsJSON(env.Stdout, page)
	}
	if err := writeJobsTable(env.Stdout, page.Jobs); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(env.Stderr, "more jobs: add --after %s\n", page.Next)
	}
	return nil
}

// jobJSON is one job in list --json.
type jobJSON struct {
	ID          uuid.UUID        `json:"id"`
	State       goodjob.JobState `json:"state"`
	Kind        string           `json:"kind"`
	Queue       string           `json:"queue"`
	Priority    int              `json:"priority"`
	Args        json.RawMessage  `json:"args"`
	Labels      []string         `json:"labels"`
	Executions  int              `json:"executions"`
	ScheduledAt time.Time        `json:"scheduled_at"`
	CreatedAt   time.Time        `json:"created_at"`
	FinishedAt  *time.Time       `json:"finished_at"`
	Error       string           `json:"error,omitempty"`
}

func writeJobsJSON(w io.Writer, page *goodjob.JobPage) error {
	doc := struct {
		Jobs []jobJSON `json:"jobs"`
		Next string    `json:"next"`
	}{Jobs: make([]jobJSON, len(page.Jobs)), Next: page.Next}
	for i, j := range page.Jobs {
		doc.Jobs[i] = jobJSON{
			ID: j.ID, State: j.State, Kind: j.Kind, Queue: j.Queue, Priority: j.Priority,
			Args: j.Args, Labels: j.Labels, Executions: j.ExecutionsCount,
			ScheduledAt: j.ScheduledAt, CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt,
			Error: j.Error,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeJobsTable(w io.Writer, jobs []*goodjob.JobRecord) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tKIND\tQUEUE\tPRIORITY\tEXECUTIONS\tSCHEDULED AT\tERROR")
	for _, j := range jobs {
		errText := j.Error
		if len(errText) > 60 {
			errText = errText[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", j.ID, j.State, j.Kind, j.Queue,
			j.Priority, j.ExecutionsCount, j.ScheduledAt.UTC().Format(time.RFC3339), errText)
	}
	return tw.Flush()
}
