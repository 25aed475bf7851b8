-- good_jobs.unique_key: a job enqueued with a unique key is inserted only
-- while no unfinished job of the same kind holds that key. GoodJob for Rails
-- has no such column and leaves it NULL, so its jobs are never affected.
ALTER TABLE good_jobs ADD COLUMN IF NOT EXISTS unique_key text;

-- The arbiter of enqueue's ON CONFLICT: at most one unfinished job per kind
-- and key. Finishing a job (success or discard) takes its row out of the
-- index, which frees the key; a retry keeps the row unfinished, so it keeps
-- the key.
CREATE UNIQUE INDEX IF NOT EXISTS index_good_jobs_on_job_class_and_unique_key_unfinished
    ON good_jobs (job_class, unique_key)
    WHERE unique_key IS NOT NULL AND finished_at IS NULL;
