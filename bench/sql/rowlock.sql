-- pgbench script: the same jobs claimed by row locks only (no claim row
-- version) and finished in the same statement, as a design that holds its
-- claim in an open transaction would write them for jobs that take no time.
WITH c AS (
	SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL
		AND scheduled_at <= now() AT TIME ZONE 'UTC' AND job_class = 'BenchNoop'
	ORDER BY priority ASC NULLS LAST, scheduled_at, id
	LIMIT 500
	FOR UPDATE SKIP LOCKED
), u AS (
	UPDATE good_jobs g SET finished_at = now() AT TIME ZONE 'UTC',
		performed_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
	FROM c WHERE g.id = c.id
	RETURNING active_job_id, job_class, queue_name, serialized_params, g.scheduled_at, performed_at
)
INSERT INTO good_job_executions (id, created_at, updated_at, active_job_id, job_class,
	queue_name, serialized_params, scheduled_at, finished_at, process_id, duration)
SELECT gen_random_uuid(), performed_at, now() AT TIME ZONE 'UTC', active_job_id, job_class,
	queue_name, serialized_params, scheduled_at, now() AT TIME ZONE 'UTC',
	'00000000-0000-0000-0000-000000000001', now() AT TIME ZONE 'UTC' - performed_at
FROM u;
