-- good_job_processes: one row per running worker process. updated_at is its
-- heartbeat, and its id is what good_jobs.locked_by_id points at.
CREATE TABLE IF NOT EXISTS good_job_processes (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    state jsonb,
    lock_type smallint
);

ALTER TABLE good_job_processes
    ADD COLUMN IF NOT EXISTS lock_type smallint;
