-- good_jobs: one row per job, kept across its retries.
--
-- Column names and types follow GoodJob 4 for Rails, so a Rails app and a Go
-- service can share the table. Rails writes timestamp(6) without time zone,
-- holding UTC.
CREATE TABLE IF NOT EXISTS good_jobs (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    queue_name text,
    priority integer,
    serialized_params jsonb,
    scheduled_at timestamp(6) without time zone,
    performed_at timestamp(6) without time zone,
    finished_at timestamp(6) without time zone,
    error text,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    active_job_id uuid,
    concurrency_key text,
    cron_key text,
    retried_good_job_id uuid,
    cron_at timestamp(6) without time zone,
    batch_id uuid,
    batch_callback_id uuid,
    is_discrete boolean,
    executions_count integer,
    job_class text,
    error_event smallint,
    labels text[],
    locked_by_id uuid,
    locked_at timestamp(6) without time zone,
    lock_type smallint
);

-- Columns that GoodJob added after its first release. A table made by an
-- older GoodJob lacks some of them; these bring it up to date.
ALTER TABLE good_jobs
    ADD COLUMN IF NOT EXISTS active_job_id uuid,
    ADD COLUMN IF NOT EXISTS concurrency_key text,
    ADD COLUMN IF NOT EXISTS cron_key text,
    ADD COLUMN IF NOT EXISTS retried_good_job_id uuid,
    ADD COLUMN IF NOT EXISTS cron_at timestamp(6) without time zone,
    ADD COLUMN IF NOT EXISTS batch_id uuid,
    ADD COLUMN IF NOT EXISTS batch_callback_id uuid,
    ADD COLUMN IF NOT EXISTS is_discrete boolean,
    ADD COLUMN IF NOT EXISTS executions_count integer,
    ADD COLUMN IF NOT EXISTS job_class text,
    ADD COLUMN IF NOT EXISTS error_event smallint,
    ADD COLUMN IF NOT EXISTS labels text[],
    ADD COLUMN IF NOT EXISTS locked_by_id uuid,
    ADD COLUMN IF NOT EXISTS locked_at timestamp(6) without time zone,
    ADD COLUMN IF NOT EXISTS lock_type smallint;

-- Index names are GoodJob's own, so IF NOT EXISTS skips an index that
-- GoodJob for Rails already built instead of adding an equivalent twin.

-- Candidate lookup: the worker's claim query walks this index in order and
-- stops after LIMIT rows, however many finished rows the table holds.
CREATE INDEX IF NOT EXISTS index_good_jobs_for_candidate_dequeue_unlocked
    ON good_jobs (priority ASC NULLS LAST, scheduled_at, id)
    WHERE finished_at IS NULL AND locked_by_id IS NULL;

-- A cron tick enqueues at most one job, even with many schedulers running.
CREATE UNIQUE INDEX IF NOT EXISTS index_good_jobs_on_cron_key_and_cron_at_cond
    ON good_jobs (cron_key, cron_at)
    WHERE cron_key IS NOT NULL;

-- GoodJob's name for this index mentions priority, but its columns do not.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_queue_name_priority_scheduled_at_unfinished
    ON good_jobs (queue_name, scheduled_at, id)
    WHERE finished_at IS NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_locked_by_id
    ON good_jobs (locked_by_id)
    WHERE locked_by_id IS NOT NULL;

-- Cleanup deletes finished rows oldest first.
CREATE INDEX IF NOT EXISTS index_good_jobs_jobs_on_finished_at_only
    ON good_jobs (finished_at)
    WHERE finished_at IS NOT NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_active_job_id_and_created_at
    ON good_jobs (active_job_id, created_at);

-- GoodJob's index has no concurrency_key IS NOT NULL condition. Every query
-- of it names a key, so rows without one never need to be in it, and left
-- out they cost claims and completions nothing.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_concurrency_key_when_unfinished
    ON good_jobs (concurrency_key)
    WHERE finished_at IS NULL AND concurrency_key IS NOT NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_batch_id
    ON good_jobs (batch_id)
    WHERE batch_id IS NOT NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_batch_callback_id
    ON good_jobs (batch_callback_id)
    WHERE batch_callback_id IS NOT NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_labels
    ON good_jobs USING gin (labels)
    WHERE labels IS NOT NULL;

CREATE INDEX IF NOT EXISTS index_good_jobs_on_job_class
    ON good_jobs (job_class);

-- The dashboard's list of discarded jobs, newest first.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_discarded
    ON good_jobs (finished_at DESC)
    WHERE finished_at IS NOT NULL AND error IS NOT NULL;
