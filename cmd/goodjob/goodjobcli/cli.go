// Package goodjobcli is the goodjob command: it migrates the database,
// shows and changes jobs, cleans up finished jobs and runs the demo.
//
// Each subcommand lives in its own file and adds itself to the table with
// register, so a new subcommand is a new file. Exit codes are part of the
// interface scripts rely on: ExitOK, ExitFailure and ExitUsage.
package goodjobcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/envflag"
)

// Exit codes of the goodjob command.
const (
	ExitOK      = 0 // the command did what it was asked
	ExitFailure = 1 // the command ran and failed, e.g. the database refused
	ExitUsage   = 2 // the command line or the environment is wrong
)

// Env is what a command may touch outside itself.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Command is one subcommand.
type Command struct {
	Name    string // what follows "goodjob"
	Args    string // the rest of the synopsis, e.g. "[--print]"
	Summary string // its first line goes in the command list, all of it in --help
	// Flags defines the command's flags on fs and returns the function that
	// runs it with the positional arguments left after parsing.
	Flags func(fs *envflag.Set, env *Env) func(ctx context.Context, args []string) error
}

var commands []*Command

// register adds a subcommand; every command file calls it from init.
func register(c *Command) {
	commands = append(commands, c)
	slices.SortFunc(commands, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
}

// UsageError is a mistake in the command line or the environment. The
// command exits with ExitUsage.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return Main(ctx, []string{args[1], "--help"}, env)
		}
		printUsage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands {
		if c.Name == args[0] {
			return runCommand(ctx, c, args[1:], env)
		}
	}
	fmt.Fprintf(env.Stderr, "goodjob: unknown command %q; run 'goodjob help' for the list\n",
		args[0])
	return ExitUsage
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

func runCommand(ctx context.Context, c *Command, args []string, env *Env) int {
	fs := envflag.New("goodjob "+c.Name, env.Getenv)
	// The flag package would print the usage itself on --help and on a bad
	// flag; this function prints it once, to stdout for --help and as a
	// pointer to --help on stderr for a mistake.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	run := c.Flags(fs, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.Stdout, "usage: goodjob %s %s\n\n%s\n\nflags:\n",
				c.Name, c.Args, c.Summary)
			fs.SetOutput(env.Stdout)
			fs.PrintDefaults()
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "goodjob %s: %v\nrun 'goodjob %s --help' for usage\n",
			c.Name, err, c.Name)
		return ExitUsage
	}
	err := run(ctx, fs.Args())
	var uerr *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &uerr):
		fmt.Fprintf(env.Stderr, "goodjob %s: %v\nrun 'goodjob %s --help' for usage\n",
			c.Name, err, c.Name)
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "goodjob %s: %v\n", c.Name, explain(err))
		return ExitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `goodjob operates a goodjob (GoodJob-compatible) queue in PostgreSQL.

usage: goodjob <command> [flags] [arguments]

commands:
`)
	for _, c := range commands {
		first, _, _ := strings.Cut(c.Summary, "\n")
		fmt.Fprintf(w, "  %-12s %s\n", c.Name, first)
	}
	fmt.Fprint(w, `
Every command takes --help. The database comes from --database-url or
DATABASE_URL. Exit codes: 0 success, 1 failure, 2 usage error.
`)
}

// explain adds what to do to errors an operator can fix.
func explain(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return fmt.Errorf("%w\nthe goodjob tables are missing: run 'goodjob migrate' first", err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w\ncheck that PostgreSQL is running and that DATABASE_URL "+
			"(or --database-url) points at it", err)
	}
	return err
}

// dbFlag defines --database-url, read from DATABASE_URL.
func dbFlag(fs *envflag.Set) *string {
	return fs.String("database-url", "DATABASE_URL", "", "PostgreSQL connection string")
}

// openPool connects to url and checks the connection.
func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	if url == "" {
		return nil, usagef("no database: set DATABASE_URL or pass --database-url")
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, usagef("DATABASE_URL is not a valid connection string: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// openClient connects and returns a Client for the admin API. Its logs go
// to stderr at warning level, away from the command's output.
func openClient(ctx context.Context, url string, env *Env) (*goodjob.Client, func(), error) {
	pool, err := openPool(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{
		Level: slog.LevelWarn,
	}))
	client, err := goodjob.New(pool, goodjob.Config{Logger: logger})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return client, pool.Close, nil
}
