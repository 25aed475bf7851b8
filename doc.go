// Package goodjob is a background job queue for Go that keeps its jobs in the
// PostgreSQL database an application already has, in the tables of Ruby's
// GoodJob.
//
// An application defines a job as an [Args] type, registers a [Worker] for
// it, and enqueues jobs with [Client.Enqueue], or with [Client.EnqueueTx]
// inside its own transaction so that the job exists only if the transaction
// commits. [Client.Start] runs pools of goroutines that claim jobs with
// FOR UPDATE SKIP LOCKED, wake on LISTEN/NOTIFY within milliseconds of a
// commit, and poll as a fallback:
//
//	type Welcome struct{ Email string }
//
//	func (Welcome) Kind() string { return "Welcome" }
//
//	client, err := goodjob.New(pool, goodjob.Config{Queues: "critical:2;*"})
//	err = goodjob.Register(client, goodjob.WorkFunc[Welcome](
//		func(ctx context.Context, job *goodjob.Job[Welcome]) error {
//			return send(ctx, job.Args.Email)
//		}))
//	err = client.Start(ctx)
//	_, err = client.Enqueue(ctx, Welcome{Email: "ada@example.com"})
//
// Call [Migrate] once at start-up to create or upgrade the tables.
//
// Where to look next:
//
//   - Failures: [RetryPolicy], [Retry], [RetryOn], [DiscardOn], [OnExhausted]
//     and [OnDiscarded] per kind, or for every kind through
//     [Config.ErrorRules]; [Discard] and [Snooze] from Work; [Timeout].
//   - Scheduling: [Wait], [At], [Priority], [Queue], [Labels], and
//     recurring jobs in [Config.Cron].
//   - Controls: [Unique], [Concurrency], batches with [Client.NewBatch],
//     and pauses with [Client.Pause].
//   - Operating: [Client.Jobs], [Client.RetryJob], [Client.DiscardJob],
//     [Client.ForceDiscardJob], [Client.Stats] and their bulk and Tx forms;
//     the dashboard package for a web UI.
//   - Processes: [RunWorker] for a worker binary, [Client.Stop] and
//     [Stopping] for graceful shutdown, [Config.DisableListen] behind
//     PgBouncer.
//   - Tests: the goodjobtest package.
package goodjob
