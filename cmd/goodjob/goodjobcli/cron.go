package goodjobcli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/goodjob-go/goodjob/internal/envflag"
)

func init() {
	register(&Command{
		Name:    "cron",
		Args:    "list [--json] [--database-url URL]",
		Summary: "List the cron keys the database knows: last tick, runs, enable setting.",
		Flags:   cronFlags,
	})
}

func cronFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	asJSON := fs.Bool("json", "", false, "write JSON instead of a table")
	url := dbFlag(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 || args[0] != "list" {
			return usagef("want 'cron list'; cron entries are defined in the workers' "+
				"Config.Cron, so enqueue now and enable/disable are in the dashboard (got %q)",
				args)
		}
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		if rest := fs.Args(); len(rest) > 0 {
			return usagef("unexpected arguments %q", rest)
		}
		client, closeDB, err := openClient(ctx, *url, env)
		if err != nil {
			return err
		}
		defer closeDB()
		records, err := client.CronRecords(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(records)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tLAST TICK\tRUNS\tSETTING")
		for _, r := range records {
			last := "-"
			if r.LastAt != nil {
				last = r.LastAt.UTC().Format(time.RFC3339)
			}
			setting := r.Setting
			if setting == "" {
				setting = "default"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Key, last, r.Runs, setting)
		}
		return tw.Flush()
	}
}
