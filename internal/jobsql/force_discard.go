package jobsql

// forceDiscardSQL finishes the picked jobs as discarded whether or not a
// worker holds them, and takes them from their worker: locked_by_id and
// locked_at are cleared, so the worker's completion, fenced by
// locked_by_id (see completeSQL), writes nothing when its attempt ends.
//
// GoodJob's force discard only updates the job row, because its attempt's
// execution row was inserted when the attempt started. Ours is inserted
// when the attempt ends, by the completion the fence now drops, so the
// attempt a worker was running is recorded here instead: started at
// performed_at, ended now, with the discard's error and event and the
// worker's process id. A job no worker holds gets no execution row, as in
// GoodJob: it had no attempt running.
//
// pick selects the jobs FOR UPDATE, with their locked_by_id and
// performed_at before the change; errArg and eventArg are the placeholders
// of the error text and error_event.
func forceDiscardSQL(pick, errArg, eventArg string) string {
	return "WITH picked AS (" + pick + `), upd AS (
	UPDATE good_jobs g SET finished_at = $1, error = ` + errArg + `,
		error_event = ` + eventArg + `, locked_by_id = NULL, locked_at = NULL, updated_at = $1
	FROM picked p WHERE g.id = p.id
	RETURNING g.id, coalesce(g.active_job_id, g.id) AS active_job_id, g.job_class,
		g.queue_name, g.serialized_params, g.scheduled_at, g.batch_id, g.batch_callback_id,
		p.locked_by_id, p.performed_at
), ex AS (
	INSERT INTO good_job_executions (
		id, created_at, updated_at, active_job_id, job_class, queue_name,
		serialized_params, scheduled_at, finished_at, error, error_event,
		process_id, duration
	)
	SELECT gen_random_uuid(), u.performed_at, $1, u.active_job_id, u.job_class, u.queue_name,
		u.serialized_params, u.scheduled_at, $1, ` + errArg + `, ` + eventArg + `,
		u.locked_by_id, $1 - u.performed_at
	FROM upd u WHERE u.locked_by_id IS NOT NULL AND u.performed_at IS NOT NULL
)
SELECT coalesce(queue_name, ''), min(scheduled_at), count(*)` + batchesSQL + `
FROM upd GROUP BY queue_name`
}
