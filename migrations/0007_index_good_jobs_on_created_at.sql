-- The dashboard and the admin API list jobs newest first. Without an index
-- on created_at, every page of that list sorts the whole table. GoodJob for
-- Rails adds the same index under the same name for its dashboard, so a
-- database it made already has it and this is skipped.
CREATE INDEX IF NOT EXISTS index_good_jobs_on_created_at
    ON good_jobs (created_at);
