package goodjobcli

import (
	"context"
	"fmt"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
	"github.com/goodjob-go/goodjob/internal/migrator"
)

func init() {
	register(&Command{
		Name:    "migrate",
		Args:    "[--print] [--database-url URL]",
		Summary: "Create or upgrade the good_job tables; --print writes the SQL instead.",
		Flags:   migrateFlags,
	})
}

func migrateFlags(fs *envflag.Set, env *Env) func(context.Context, []string) error {
	printSQL := fs.Bool("print", "", false,
		"write the migrations' SQL to stdout, for goose, golang-migrate or atlas, "+
			"and touch no database")
	url := dbFlag(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		if *printSQL {
			sql, err := migrator.SQL()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(env.Stdout, sql)
			return err
		}
		pool, err := openPool(ctx, *url)
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := goodjob.Migrate(ctx, pool); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "migrations applied")
		return nil
	}
}
