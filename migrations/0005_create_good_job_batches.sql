-- good_job_batches: groups of jobs with callbacks that run when the group
-- finishes, succeeds or has a discarded job.
CREATE TABLE IF NOT EXISTS good_job_batches (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    description text,
    serialized_properties jsonb,
    on_finish text,
    on_success text,
    on_discard text,
    callback_queue_name text,
    callback_priority integer,
    enqueued_at timestamp(6) without time zone,
    discarded_at timestamp(6) without time zone,
    finished_at timestamp(6) without time zone,
    jobs_finished_at timestamp(6) without time zone
);

ALTER TABLE good_job_batches
    ADD COLUMN IF NOT EXISTS jobs_finished_at timestamp(6) without time zone;
