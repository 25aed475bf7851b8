package goodjob

import (
	"errors"
	"os"
)

var stderr = os.Stderr

// Errors callers can test for with errors.Is.
var (
	// ErrNilPool is returned by New without a pool.
	ErrNilPool = errors.New("goodjob: pool is nil")
	// ErrInvalidArgs wraps every rejection of a job's args or options at
	// enqueue time.
	ErrInvalidArgs = errors.New("goodjob: invalid job")
	// ErrDuplicateWorker is returned by Register for a kind that already
	// has a worker.
	ErrDuplicateWorker = errors.New("goodjob: kind already has a worker")
	// ErrStarted is returned by calls that must come before Start.
	ErrStarted = errors.New("goodjob: client already started")
	// ErrNotStarted is returned by Stop on a Client that is not running.
	ErrNotStarted = errors.New("goodjob: client not started")
	// ErrConcurrencyLimit is matched by the error of an enqueue refused by
	// a kind's TotalLimit, EnqueueLimit or EnqueueThrottle; nothing was
	// written. See [ConcurrencyConfig] and [ConcurrencyLimitError].
	ErrConcurrencyLimit = errors.New("goodjob: concurrency limit reached")
)
