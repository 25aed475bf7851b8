package goodjobcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name: "stats",
		Args: "[--json] [--database-url URL]",
		Summary: "Count jobs by state and by queue, finished today, and the oldest queued " +
			"job's age.\nA second table counts the unfinished jobs of each kind.",
		Flags: statsFlags,
	})
}

func statsFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	asJSON := fs.Bool("json", "", false, "write JSON instead of a table")
	url := dbFlag(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		client, closeDB, err := openClient(ctx, *url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		st, err := client.Stats(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeStatsJSON(env.Stdout, st)
		}
		return writeStatsTable(env.Stdout, st)
	}
}

// statsJSON is the --json document: ages in seconds, for scripts.
type statsJSON struct {
	At                     time.Time                  `json:"at"`
	States                 map[goodjob.JobState]int64 `json:"states"`
	FinishedToday          int64                      `json:"finished_today"`
	OldestQueuedAgeSeconds float64                    `json:"oldest_queued_age_seconds"`
	Queues                 []queueStatsJSON           `json:"queues"`
	Kinds                  []kindStatsJSON            `json:"kinds"`
}

type queueStatsJSON struct {
	Queue                  string                     `json:"queue"`
	States                 map[goodjob.JobState]int64 `json:"states"`
	FinishedToday          int64                      `json:"finished_today"`
	OldestQueuedAgeSeconds float64                    `json:"oldest_queued_age_seconds"`
}

// kindStatsJSON is one kind's unfinished jobs.
type kindStatsJSON struct {
	Kind                   string  `json:"kind"`
	Queued                 int64   `json:"queued"`
	Scheduled              int64   `json:"scheduled"`
	Retried                int64   `json:"retried"`
	Running                int64   `json:"running"`
	OldestQueuedAgeSeconds float64 `json:"oldest_queued_age_seconds"`
}

func writeStatsJSON(w io.Writer, st *goodjob.Stats) error {
	doc := statsJSON{
		At: st.At.UTC(), States: st.States, FinishedToday: st.FinishedToday,
		OldestQueuedAgeSeconds: st.OldestQueuedAge.Seconds(),
		Queues:                 make([]queueStatsJSON, len(st.Queues)),
		Kinds:                  make([]kindStatsJSON, len(st.Kinds)),
	}
	for i, q := range st.Queues {
		doc.Queues[i] = queueStatsJSON{
			Queue: q.Queue, States: q.States, FinishedToday: q.FinishedToday,
			OldestQueuedAgeSeconds: q.OldestQueuedAge.Seconds(),
		}
	}
	for i, k := range st.Kinds {
		doc.Kinds[i] = kindStatsJSON{
			Kind: k.Kind, Queued: k.Queued, Scheduled: k.Scheduled, Retried: k.Retried,
			Running: k.Running, OldestQueuedAgeSeconds: k.OldestQueuedAge.Seconds(),
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeStatsTable(w io.Writer, st *goodjob.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "queue\t")
	for _, s := range goodjob.JobStates {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprint(tw, "finished today\toldest queued\t\n")
	row := func(name string, states map[goodjob.JobState]int64, today int64, age time.Duration) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, s := range goodjob.JobStates {
			fmt.Fprintf(tw, "%d\t", states[s])
		}
		fmt.Fprintf(tw, "%d\t%s\t\n", today, age.Round(time.Second))
	}
	for _, q := range st.Queues {
		row(q.Queue, q.States, q.FinishedToday, q.OldestQueuedAge)
	}
	row("(all)", st.States, st.FinishedToday, st.OldestQueuedAge)
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeKindsTable(w, st.Kinds)
}

// writeKindsTable writes the unfinished jobs of each kind, after a blank
// line, with the states in the order of the table above; nothing when no
// job is unfinished.
func writeKindsTable(w io.Writer, kinds []goodjob.KindStats) error {
	if len(kinds) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "kind\tscheduled\tretried\tqueued\trunning\toldest queued\t\n")
	for _, k := range kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t\n", k.Kind, k.Scheduled, k.Retried,
			k.Queued, k.Running, k.OldestQueuedAge.Round(time.Second))
	}
	return tw.Flush()
}
