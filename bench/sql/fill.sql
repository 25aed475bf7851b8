-- Refills a migrated goodjob database with 200,000 due no-op jobs of the
-- shape Enqueue writes, for the pgbench scripts next to this file.
TRUNCATE good_jobs, good_job_executions;
INSERT INTO good_jobs (id, active_job_id, job_class, queue_name, priority, serialized_params,
	scheduled_at, created_at, updated_at, executions_count)
SELECT u, u, 'BenchNoop', 'default', 0,
	jsonb_build_object('job_class', 'BenchNoop', 'job_id', u, 'provider_job_id', NULL,
		'queue_name', 'default', 'priority', 0, 'arguments', jsonb_build_array(jsonb_build_object('n', i)),
		'executions', 0, 'exception_executions', '{}'::jsonb, 'locale', 'en', 'timezone', 'UTC',
		'enqueued_at', '2026-12-04T07:00:00.000000000Z', 'scheduled_at', NULL),
	now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', 0
FROM (SELECT gen_random_uuid() AS u, i FROM generate_series(1, 200000) i) s;
VACUUM ANALYZE good_jobs;
VACUUM ANALYZE good_job_executions;
