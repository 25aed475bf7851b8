-- good_job_settings: small key/value settings shared by every process, such
-- as which cron entries are disabled and which queues are paused.
CREATE TABLE IF NOT EXISTS good_job_settings (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    key text,
    value jsonb
);

CREATE UNIQUE INDEX IF NOT EXISTS index_good_job_settings_on_key
    ON good_job_settings (key);
