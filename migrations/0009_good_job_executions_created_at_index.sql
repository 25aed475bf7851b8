-- The dashboard's performance report reads the executions that started
-- within a window (the last hour, day or week). Without an index on
-- created_at that is a scan of the whole table, which holds every attempt
-- of every job kept for cleanup's retention period.
--
-- goodjob writes an execution once, when the attempt ends, and created_at
-- (the attempt's start) only grows, so each insert lands on the index's
-- rightmost page. GoodJob for Rails inserts the row when an attempt starts
-- and updates it when it ends; the index has no condition on finished_at, so
-- that update touches no indexed column and can stay a HOT update.
CREATE INDEX IF NOT EXISTS index_good_job_executions_on_created_at
    ON good_job_executions (created_at);
