// Command goodjob operates a goodjob queue: migrations, stats, jobs,
// cleanup and a demo. Run "goodjob help" for the list of commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/goodjob-go/goodjob/cmd/goodjob/goodjobcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := goodjobcli.Main(ctx, os.Args[1:], &goodjobcli.Env{
		Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
