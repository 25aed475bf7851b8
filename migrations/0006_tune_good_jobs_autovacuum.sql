-- good_jobs is a queue: every job is inserted, updated a few times and
-- finally deleted by cleanup, so dead rows pile up fast. Postgres's default
-- thresholds (vacuum at 20% dead rows, analyze at 10% changed) let a large
-- table bloat and its statistics go stale before autovacuum runs. Vacuum and
-- analyze this table after a much smaller share of it changes.
--
-- fillfactor 90 leaves room on each page so that updates which touch no
-- indexed column can stay on the same page (HOT updates). It applies to
-- pages written from now on; existing pages keep their layout.
ALTER TABLE good_jobs SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02,
    fillfactor = 90
);
