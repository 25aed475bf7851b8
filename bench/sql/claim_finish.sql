-- pgbench script: what goodjob writes per job today. A claim of 500 rows
-- (a row version with locked_by_id set, asynchronous commit), then one
-- statement that finishes them and writes their execution rows.
BEGIN;
SET LOCAL synchronous_commit = off;
WITH c AS (
	SELECT id FROM good_jobs
	WHERE finished_at IS NULL AND locked_by_id IS NULL
		AND scheduled_at <= now() AT TIME ZONE 'UTC' AND job_class = 'BenchNoop'
	ORDER BY priority ASC NULLS LAST, scheduled_at, id
	LIMIT 500
	FOR UPDATE SKIP LOCKED
)
UPDATE good_jobs g SET
	locked_by_id = ('00000000-0000-0000-0000-0000000000' || lpad(:client_id::text, 2, '0'))::uuid,
	locked_at = now() AT TIME ZONE 'UTC', performed_at = now() AT TIME ZONE 'UTC'
FROM c WHERE g.id = c.id;
COMMIT;
WITH u AS (
	UPDATE good_jobs SET finished_at = now() AT TIME ZONE 'UTC', locked_by_id = NULL,
		locked_at = NULL, updated_at = now() AT TIME ZONE 'UTC'
	WHERE locked_by_id = ('00000000-0000-0000-0000-0000000000' || lpad(:client_id::text, 2, '0'))::uuid
	RETURNING active_job_id, job_class, queue_name, serialized_params, scheduled_at, performed_at
)
INSERT INTO good_job_executions (id, created_at, updated_at, active_job_id, job_class,
	queue_name, serialized_params, scheduled_at, finished_at, process_id, duration)
SELECT gen_random_uuid(), performed_at, now() AT TIME ZONE 'UTC', active_job_id, job_class,
	queue_name, serialized_params, scheduled_at, now() AT TIME ZONE 'UTC',
	'00000000-0000-0000-0000-000000000001', now() AT TIME ZONE 'UTC' - performed_at
FROM u;
