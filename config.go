package goodjob

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults for the zero values of Config.
const (
	QueuesDefault            = "*"
	MaxThreadsDefault        = 5
	PollIntervalDefault      = 10 * time.Second
	ShutdownTimeoutDefault   = 25 * time.Second
	HeartbeatIntervalDefault = 10 * time.Second
	ProcessLeaseDefault      = 30 * time.Second
	// MaxQueueNameLength bounds a queue name, in bytes.
	MaxQueueNameLength = 128
)

// Config configures a [Client]. The zero value of every field means its
// documented default.
type Config struct {
	// Queues selects the queues this process works and splits them into
	// pools, in GoodJob's syntax: "critical:5;default,mailers:3;*". See
	// the README for the full grammar. Default "*": one pool for every queue.
	Queues string

	// MaxThreads is the number of goroutines of a pool whose selector names
	// no ":N". Default 5.
	MaxThreads int

	// PollInterval is how often pools look for jobs without a wake-up, as a
	// fallback for lost notifications. Default 10s; negative never polls.
	PollInterval time.Duration

	// ShutdownTimeout bounds Stop's wait for running jobs when Stop's
	// context has no deadline. Default 25s; negative waits forever.
	ShutdownTimeout time.Duration

	// HeartbeatInterval is how often the process row is refreshed.
	// Default 10s.
	HeartbeatInterval time.Duration

	// ProcessLease is how old a process's heartbeat may get before other
	// processes consider it gone and release its jobs. It must be longer
	// than HeartbeatInterval. Default 30s.
	ProcessLease time.Duration

	// CleanupPreservedJobsBefore is how long finished jobs, with their
	// executions, and finished batches are kept before the automatic
	// cleanup deletes them. Default 14 days; negative turns the automatic
	// cleanup off ([Client.Cleanup] still works).
	CleanupPreservedJobsBefore time.Duration

	// CleanupIntervalJobs runs the automatic cleanup after this many
	// attempts completed by this Client. Default 1000; negative: never by
	// count.
	CleanupIntervalJobs int

	// CleanupInterval runs the automatic cleanup this long after the last
	// pass, even when no job ran. Default 10m; negative: never by time.
	CleanupInterval time.Duration

	// CleanupKeepDiscarded keeps discarded jobs (finished with an error)
	// and batches with discarded jobs out of the automatic cleanup, as
	// GoodJob's cleanup_discarded_jobs = false does. Default false: they
	// are deleted too.
	CleanupKeepDiscarded bool

	// Cron maps a key, stored in good_jobs.cron_key, to a recurring job that
	// every started Client schedules. See [CronEntry].
	Cron map[string]CronEntry

	// CronGracePeriod is how far back Start looks for cron ticks that no
	// process enqueued, for example during a deploy; each is enqueued once.
	// Default 0: missed ticks are skipped, as in GoodJob.
	CronGracePeriod time.Duration

	// Timeout cancels the context of every attempt that runs longer, for
	// each kind without a [Timeout] option of its own. The attempt then
	// fails with context.DeadlineExceeded and is retried like any other
	// error. New rejects a negative value. Default 0: no timeout.
	Timeout time.Duration

	// Retry is the policy of every kind that sets none of its own.
	// Default: 5 attempts with Polynomial waits.
	Retry RetryPolicy

	// ErrorRules are [RetryOn], [DiscardOn], [OnExhausted] and
	// [OnDiscarded] options that apply to every kind, as retry_on and
	// discard_on in GoodJob's ApplicationJob. A kind's own rules are tried
	// first, then these in order; the first that matches decides, and a
	// kind's Retry applies only to errors no rule matches. The hooks run
	// after the kind's own. New rejects any other option here.
	ErrorRules []WorkerOption

	// Middleware wraps every Work call of this Client, outermost first.
	Middleware []Middleware

	// Propagator, when set, stores the trace context of the enqueueing
	// context with each job and continues that trace in the job's
	// attempts. See package otelgoodjob. Default nil: no tracing.
	Propagator Propagator

	// Logger receives the library's logs. Default: warnings and errors to
	// standard error.
	Logger *slog.Logger

	// ListenConnString, when set, is the connection string (URL or
	// key=value DSN) of the LISTEN connection, which otherwise uses the
	// pool's settings. Behind PgBouncer in transaction mode LISTEN does not
	// work, so point this at Postgres itself. New rejects a string pgx
	// cannot parse. Default "": the pool's connection settings.
	ListenConnString string

	// DisableListen opens no LISTEN connection. Pools then find jobs from
	// other processes by polling every PollInterval (set it short, GoodJob
	// suggests 5s), while jobs this Client enqueues still wake its own
	// pools at once and NOTIFYs are still sent for processes that listen.
	// /status/connected then reports whether the pool answers a ping.
	// Default false.
	DisableListen bool
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if strings.TrimSpace(cfg.Queues) == "" {
		cfg.Queues = QueuesDefault
	}
	if cfg.MaxThreads == 0 {
		cfg.MaxThreads = MaxThreadsDefault
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = PollIntervalDefault
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = ShutdownTimeoutDefault
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = HeartbeatIntervalDefault
	}
	if cfg.ProcessLease == 0 {
		cfg.ProcessLease = ProcessLeaseDefault
	}
	if cfg.CleanupPreservedJobsBefore == 0 {
		cfg.CleanupPreservedJobsBefore = CleanupPreservedJobsBeforeDefault
	}
	if cfg.CleanupIntervalJobs == 0 {
		cfg.CleanupIntervalJobs = CleanupIntervalJobsDefault
	}
	if cfg.CleanupInterval == 0 {
		cfg.CleanupInterval = CleanupIntervalDefault
	}
	if cfg.Retry.Attempts == 0 && cfg.Retry.Wait == nil {
		cfg.Retry = DefaultRetryPolicy()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
			Level: slog.LevelWarn,
		}))
	}
	return cfg
}

// validate names the first bad field.
func (cfg Config) validate() error {
	if cfg.MaxThreads < 0 {
		return fmt.Errorf("goodjob: Config.MaxThreads is %d, want 0 or more", cfg.MaxThreads)
	}
	if cfg.HeartbeatInterval < 0 {
		return fmt.Errorf("goodjob: Config.HeartbeatInterval is %s, want 0 or more",
			cfg.HeartbeatInterval)
	}
	if cfg.ProcessLease <= cfg.HeartbeatInterval {
		return fmt.Errorf("goodjob: Config.ProcessLease is %s, want more than HeartbeatInterval %s",
			cfg.ProcessLease, cfg.HeartbeatInterval)
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("goodjob: Config.Timeout is %s, want 0 or more", cfg.Timeout)
	}
	if err := cfg.Retry.validate(); err != nil {
		return fmt.Errorf("goodjob: Config.Retry: %w", err)
	}
	if cfg.ListenConnString != "" {
		if cfg.DisableListen {
			return errors.New("goodjob: Config.ListenConnString is set but DisableListen is true")
		}
		if _, err := pgx.ParseConfig(cfg.ListenConnString); err != nil {
			return fmt.Errorf("goodjob: Config.ListenConnString: %w", err)
		}
	}
	return nil
}

// poolSpec is one pool of the queue string.
type poolSpec struct {
	Queues  []string // nil: every queue
	Exclude bool     // Queues are the ones to skip
	Ordered bool     // take Queues in the listed order
	Size    int
}

// ErrInvalidQueues is wrapped by every error about a queue string.
var ErrInvalidQueues = errors.New("invalid queue string")

// parseQueues reads GoodJob's queue string: ";" separates pools, ":N" sets
// a pool's goroutines, "," separates queue names, "*" is every queue, a
// leading "-" excludes the names and a leading "+" takes them in order. As
// in GoodJob, an empty selector (":3") and a plain list holding "*"
// ("a,*") mean every queue.
func parseQueues(s string, maxThreads int) ([]poolSpec, error) {
	if strings.TrimSpace(s) == "" {
		s = QueuesDefault
	}
	var specs []poolSpec
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("%w %q: pool %d is empty", ErrInvalidQueues, s, i+1)
		}
		spec, err := parsePool(part, maxThreads)
		if err != nil {
			return nil, fmt.Errorf("%w %q: pool %q: %w", ErrInvalidQueues, s, part, err)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func parsePool(part string, maxThreads int) (poolSpec, error) {
	spec := poolSpec{Size: maxThreads}
	selector := part
	if i := strings.LastIndexByte(part, ':'); i >= 0 {
		selector = strings.TrimSpace(part[:i])
		n, err := strconv.Atoi(strings.TrimSpace(part[i+1:]))
		if err != nil || n < 1 {
			return spec, fmt.Errorf("thread count %q is not a positive number", part[i+1:])
		}
		spec.Size = n
	}
	if spec.Size < 1 {
		spec.Size = MaxThreadsDefault
	}
	if selector == "" {
		selector = "*"
	}
	prefix := ""
	switch {
	case strings.HasPrefix(selector, "-"):
		spec.Exclude, prefix, selector = true, "-", selector[1:]
	case strings.HasPrefix(selector, "+"):
		spec.Ordered, prefix, selector = true, "+", selector[1:]
	}
	all := false
	for name := range strings.SplitSeq(selector, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			all = true
			continue
		}
		if err := validateQueueName(name); err != nil {
			return spec, err
		}
		if !contains(spec.Queues, name) {
			spec.Queues = append(spec.Queues, name)
		}
	}
	if !all {
		return spec, nil
	}
	// GoodJob lets "*" win over the prefix: "-a,*" runs a too and "+a,*"
	// drops the order. Both contradict what the string says, so only a
	// plain list may hold "*".
	switch prefix {
	case "-":
		return spec, errors.New(`"-" cannot take "*": GoodJob would run every queue, excluding none`)
	case "+":
		return spec, errors.New(`"+" cannot take "*": GoodJob would run every queue, in no order`)
	}
	return poolSpec{Size: spec.Size}, nil
}

// validateQueueName accepts the names a queue string can express.
func validateQueueName(name string) error {
	switch {
	case name == "":
		return errors.New("queue name is empty")
	case name == "*":
		return errors.New(`"*" is every queue, not a queue name`)
	case len(name) > MaxQueueNameLength:
		return fmt.Errorf("queue name is %d bytes, over %d", len(name), MaxQueueNameLength)
	case strings.ContainsAny(name, ",;:*"):
		return fmt.Errorf("queue name %q contains one of , ; : *", name)
	case strings.IndexFunc(name, isSpace) >= 0:
		return fmt.Errorf("queue name %q contains white space", name)
	case name[0] == '-' || name[0] == '+':
		return fmt.Errorf("queue name %q starts with %c", name, name[0])
	}
	return nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// matches reports whether a job in queue runs in this pool.
func (p poolSpec) matches(queue string) bool {
	if p.Queues == nil {
		return true
	}
	return contains(p.Queues, queue) != p.Exclude
}

// String writes the spec back in queue-string syntax.
func (p poolSpec) String() string {
	sel := "*"
	if p.Queues != nil {
		sel = strings.Join(p.Queues, ",")
		if p.Exclude {
			sel = "-" + sel
		} else if p.Ordered {
			sel = "+" + sel
		}
	}
	return sel + ":" + strconv.Itoa(p.Size)
}
