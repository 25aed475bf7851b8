-- The five tables as an existing Rails app running GoodJob 4 would have them
-- before its newest update migrations: good_jobs has no labels and no
-- lock_type column, good_job_executions no duration, good_job_batches no
-- jobs_finished_at. Some indexes carry GoodJob's names (and must not get an
-- equivalent twin from our migrations); others are legacy ones that our
-- migrations do not know and must leave alone.

CREATE TABLE good_jobs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
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
    locked_by_id uuid,
    locked_at timestamp(6) without time zone,
    CONSTRAINT good_jobs_pkey PRIMARY KEY (id)
);

CREATE TABLE good_job_executions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
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
    CONSTRAINT good_job_executions_pkey PRIMARY KEY (id)
);

CREATE TABLE good_job_processes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    state jsonb,
    lock_type smallint,
    CONSTRAINT good_job_processes_pkey PRIMARY KEY (id)
);

CREATE TABLE good_job_settings (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    key text,
    value jsonb,
    CONSTRAINT good_job_settings_pkey PRIMARY KEY (id)
);

CREATE TABLE good_job_batches (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
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
    CONSTRAINT good_job_batches_pkey PRIMARY KEY (id)
);

-- Indexes under the names our migrations also use.
CREATE INDEX index_good_jobs_on_active_job_id_and_created_at
    ON good_jobs USING btree (active_job_id, created_at);
CREATE INDEX index_good_jobs_on_concurrency_key_when_unfinished
    ON good_jobs USING btree (concurrency_key) WHERE (finished_at IS NULL);
CREATE UNIQUE INDEX index_good_jobs_on_cron_key_and_cron_at_cond
    ON good_jobs USING btree (cron_key, cron_at) WHERE (cron_key IS NOT NULL);
CREATE INDEX index_good_jobs_on_batch_id
    ON good_jobs USING btree (batch_id) WHERE (batch_id IS NOT NULL);
CREATE INDEX index_good_jobs_on_batch_callback_id
    ON good_jobs USING btree (batch_callback_id) WHERE (batch_callback_id IS NOT NULL);
CREATE INDEX index_good_jobs_on_job_class
    ON good_jobs USING btree (job_class);
CREATE INDEX index_good_jobs_on_locked_by_id
    ON good_jobs USING btree (locked_by_id) WHERE (locked_by_id IS NOT NULL);
CREATE INDEX index_good_jobs_on_queue_name_priority_scheduled_at_unfinished
    ON good_jobs USING btree (queue_name, scheduled_at, id) WHERE (finished_at IS NULL);
CREATE INDEX index_good_job_executions_on_active_job_id_and_created_at
    ON good_job_executions USING btree (active_job_id, created_at);
CREATE INDEX index_good_job_executions_on_process_id_and_created_at
    ON good_job_executions USING btree (process_id, created_at);
CREATE UNIQUE INDEX index_good_job_settings_on_key
    ON good_job_settings USING btree (key);

-- Legacy indexes that newer GoodJob versions replaced.
CREATE INDEX index_good_jobs_on_cron_key_and_created_at_cond
    ON good_jobs USING btree (cron_key, created_at) WHERE (cron_key IS NOT NULL);
CREATE INDEX index_good_jobs_on_priority_scheduled_at_unfinished_unlocked
    ON good_jobs USING btree (priority, scheduled_at)
    WHERE ((finished_at IS NULL) AND (locked_by_id IS NULL));
