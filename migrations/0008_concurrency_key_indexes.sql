-- Indexes for concurrency throttles. Both leave out rows without a
-- concurrency key, so kinds without concurrency controls never pay for them.

-- Enqueue throttles count the jobs of a key created within the period.
-- GoodJob's index of the same name covers every row; where GoodJob for Rails
-- made it already, IF NOT EXISTS keeps that one, which serves too.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_concurrency_key_and_created_at
    ON good_jobs (concurrency_key, created_at)
    WHERE concurrency_key IS NOT NULL;

-- Perform throttles look at the attempts of a key's jobs that finished within
-- the period; unfinished jobs come from the unfinished concurrency key index.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_concurrency_key_and_finished_at
    ON good_jobs (concurrency_key, finished_at)
    WHERE concurrency_key IS NOT NULL AND finished_at IS NOT NULL;
