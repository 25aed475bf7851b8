package goodjob

import "context"

// stoppingKey carries a started Client's stopping channel in the context of
// every job its pools run.
type stoppingKey struct{}

func withStopping(ctx context.Context, stopping <-chan struct{}) context.Context {
	return context.WithValue(ctx, stoppingKey{}, stopping)
}

// Stopping returns a channel that is closed as soon as [Client.Stop] begins
// on the Client running the job whose Work received ctx, as GoodJob's
// current_thread_shutting_down?. A long job can check it between steps and
// hand the rest of its work to another process: return Snooze(0) to be due
// again at once without counting a failure (the next run must find where
// this one stopped, from the job's own data), or an error to be retried
// under the kind's policy. Other running processes find a snoozed job at
// their next poll, as no NOTIFY is sent for it.
//
// The channel closes at the start of Stop; the job's context is cancelled
// only when Stop stops waiting, at its ctx's deadline or after
// Config.ShutdownTimeout. The time between the two is the job's to finish
// its step and return; a job that returns in time is completed normally,
// one that does not is cancelled and its row released.
//
// Stopping returns nil, which blocks forever in a select, when ctx is not a
// job's context or the job runs inline (package goodjobtest's Work and
// Drain), where no Client is stopping.
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return ch
}
