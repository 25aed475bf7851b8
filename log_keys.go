package goodjob

// Log attribute keys, shared by every component.
const (
	keyJobID   = "job_id"
	keyKind    = "kind"
	keyQueue   = "queue"
	keyAttempt = "attempt"
	keyError   = "error"
	keyCronKey = "cron_key"
	keyCronAt  = "cron_at"
	keyBatchID = "batch_id"
	keyRetryAt = "retry_at"
)
