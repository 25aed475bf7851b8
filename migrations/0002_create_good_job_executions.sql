-- good_job_executions: one row per attempt at running a job.
CREATE TABLE IF NOT EXISTS good_job_executions (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    active_job_id uuid NOT NULL,
    job_class text,
    queue_name text,
    serialized_params jsonb,
    scheduled_at timestamp(6) without time zone,
    finished_at timestamp(6) without time zone,
    error text,
    error_event smallint,
    error_backtrace text[],
    process_id uuid,
    duration interval
);

-- Columns that GoodJob added after it first made this table.
ALTER TABLE good_job_executions
    ADD COLUMN IF NOT EXISTS error_event smallint,
    ADD COLUMN IF NOT EXISTS error_backtrace text[],
    ADD COLUMN IF NOT EXISTS process_id uuid,
    ADD COLUMN IF NOT EXISTS duration interval;

CREATE INDEX IF NOT EXISTS index_good_job_executions_on_active_job_id_and_created_at
    ON good_job_executions (active_job_id, created_at);

CREATE INDEX IF NOT EXISTS index_good_job_executions_on_process_id_and_created_at
    ON good_job_executions (process_id, created_at);
