package goodjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Worker runs jobs whose args are T.
type Worker[T Args] interface {
	Work(ctx context.Context, job *Job[T]) error
}

// WorkFunc is a function that is a Worker.
type WorkFunc[T Args] func(ctx context.Context, job *Job[T]) error

// Work calls f.
func (f WorkFunc[T]) Work(ctx context.Context, job *Job[T]) error { return f(ctx, job) }

// WorkerOption configures the worker of one kind.
type WorkerOption func(*workerConfig)

type workerConfig struct {
	timeout time.Duration
	// timeoutSet records a Timeout option, so that Timeout(0) keeps
	// Config.Timeout away from the kind.
	timeoutSet bool
	retry      *RetryPolicy
	middleware []Middleware
	defaults   []EnqueueOption
	// rules are RetryOn and DiscardOn declarations, in order; see retry_rules.go.
	rules       []errorRule
	onExhausted []JobErrorFunc
	onDiscarded []JobErrorFunc
	// uniqueBy derives the unique key of the kind's jobs; uniqueType is the
	// args type it takes. See unique.go.
	uniqueBy    func(Args) (string, error)
	uniqueType  reflect.Type
	concurrency *ConcurrencyConfig
}

// Timeout cancels the context of each of the kind's attempts after d,
// replacing Config.Timeout for the kind. Timeout(0) runs the kind without a
// timeout even when Config.Timeout is set. Register rejects a negative d.
func Timeout(d time.Duration) WorkerOption {
	return func(c *workerConfig) { c.timeout, c.timeoutSet = d, true }
}

// attemptTimeout is how long one attempt of the kind may run: its own
// Timeout if it has one, else def (Config.Timeout). Zero means no limit.
func (wc *workerConfig) attemptTimeout(def time.Duration) time.Duration {
	if wc.timeoutSet {
		return wc.timeout
	}
	return def
}

// Retry sets the kind's retry policy, replacing Config.Retry.
func Retry(p RetryPolicy) WorkerOption {
	return func(c *workerConfig) { c.retry = &p }
}

// WithMiddleware wraps this kind's Work calls, inside Config.Middleware.
func WithMiddleware(mw ...Middleware) WorkerOption {
	return func(c *workerConfig) { c.middleware = append(c.middleware, mw...) }
}

// DefaultOptions are applied to every job of this kind enqueued through the
// Client, before the options of the Enqueue call.
func DefaultOptions(opts ...EnqueueOption) WorkerOption {
	return func(c *workerConfig) { c.defaults = append(c.defaults, opts...) }
}

// handler is a registered worker with its type erased.
type handler struct {
	kind string
	cfg  workerConfig
	// work decodes the args and calls the worker.
	work func(ctx context.Context, j *jobsql.ClaimedJob, attempt int) error
}

// Register makes c run jobs of T's kind with w. It must be called before
// Start, once per kind.
func Register[T Args](c *Client, w Worker[T], opts ...WorkerOption) error {
	if c == nil {
		return errors.New("goodjob: Register with a nil Client")
	}
	if isNil(w) {
		return errors.New("goodjob: Register with a nil Worker")
	}
	kind, err := kindOf[T]()
	if err != nil {
		return err
	}
	h := &handler{kind: kind}
	for _, o := range opts {
		o(&h.cfg)
	}
	if h.cfg.retry != nil {
		if err := h.cfg.retry.validate(); err != nil {
			return fmt.Errorf("goodjob: Register %s: Retry: %w", kind, err)
		}
	}
	if err := h.cfg.validateRules(); err != nil {
		return fmt.Errorf("goodjob: Register %s: %w", kind, err)
	}
	if err := h.cfg.validateUnique(reflect.TypeFor[T]()); err != nil {
		return fmt.Errorf("goodjob: Register %s: %w", kind, err)
	}
	if cc := h.cfg.concurrency; cc != nil {
		if err := cc.validate(); err != nil {
			return fmt.Errorf("goodjob: Register %s: %w", kind, err)
		}
	}
	if h.cfg.timeout < 0 {
		return fmt.Errorf("goodjob: Register %s: Timeout %s is negative", kind, h.cfg.timeout)
	}
	h.work = func(ctx context.Context, j *jobsql.ClaimedJob, attempt int) error {
		job, err := decodeJob[T](j, attempt)
		if err != nil {
			return Discard(err)
		}
		return w.Work(ctx, job)
	}
	return c.addHandler(h)
}

// kindOf asks a zero T for its kind, allocating one when T is a pointer.
func kindOf[T Args]() (kind string, err error) {
	var zero T
	t := reflect.TypeOf(&zero).Elem()
	if t.Kind() == reflect.Pointer {
		zero = reflect.New(t.Elem()).Interface().(T)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("goodjob: Kind() of %s panicked on a zero value: %v", t, r)
		}
	}()
	kind = zero.Kind()
	if kind == "" {
		return "", fmt.Errorf("goodjob: Kind() of %s is empty", t)
	}
	return kind, nil
}

// ArgsDecodeError reports args that do not decode into the worker's type.
// The job is discarded: retrying cannot fix its stored args.
type ArgsDecodeError struct {
	Kind  string
	JobID string
	Err   error
}

func (e *ArgsDecodeError) Error() string {
	return fmt.Sprintf("decode args of %s job %s: %v", e.Kind, e.JobID, e.Err)
}

func (e *ArgsDecodeError) Unwrap() error { return e.Err }

func decodeJob[T Args](j *jobsql.ClaimedJob, attempt int) (*Job[T], error) {
	job := &Job[T]{
		ID:          j.ID,
		ActiveJobID: j.ActiveJobID,
		Queue:       j.Queue,
		Attempt:     attempt,
		ScheduledAt: j.ScheduledAt,
		CreatedAt:   j.CreatedAt,
		Labels:      j.Labels,
	}
	job.Priority, job.BatchID, job.CronKey, job.CronAt = nullableFields(j)
	if len(j.Args) == 0 || string(j.Args) == "null" {
		return nil, &ArgsDecodeError{Kind: j.Kind, JobID: j.ID.String(),
			Err: errors.New("serialized_params has no arguments")}
	}
	if err := json.Unmarshal(j.Args, &job.Args); err != nil {
		return nil, &ArgsDecodeError{Kind: j.Kind, JobID: j.ID.String(), Err: err}
	}
	return job, nil
}

// isNil reports whether v is nil or a nil pointer, map, slice or func held in
// an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
