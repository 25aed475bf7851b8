package goodjob

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// EnqueueOption changes how one job is enqueued.
type EnqueueOption func(*enqueueConfig)

type enqueueConfig struct {
	queue    string
	priority int
	wait     time.Duration
	at       time.Time
	labels   []string
	err      error
	// uniqueKey is set by Unique; nil means the job is not unique.
	uniqueKey *string
	// concurrencyKey is the key of the kind's Concurrency limits; nil
	// when the kind has none or its Key returned "".
	concurrencyKey *string

	traceContext map[string]string // from Config.Propagator
}

// Queue puts the job on the named queue instead of "default".
func Queue(name string) EnqueueOption {
	return func(c *enqueueConfig) { c.queue = name }
}

// Priority sets the job's priority; smaller numbers run first. Default 0.
func Priority(n int) EnqueueOption {
	return func(c *enqueueConfig) {
		if n < math.MinInt32 || n > math.MaxInt32 {
			c.err = fmt.Errorf("priority %d does not fit the integer column", n)
			return
		}
		c.priority = n
	}
}

// Wait delays the job by d from enqueue time. A negative d is an error.
func Wait(d time.Duration) EnqueueOption {
	return func(c *enqueueConfig) {
		if d < 0 {
			c.err = fmt.Errorf("wait %s is negative", d)
			return
		}
		c.wait, c.at = d, time.Time{}
	}
}

// At schedules the job for t. A time in the past is kept as given: the job
// is due at once and orders among waiting jobs by that time.
func At(t time.Time) EnqueueOption {
	return func(c *enqueueConfig) { c.at, c.wait = t, 0 }
}

// Labels tags the job; labels are stored in good_jobs.labels. Labels add
// to those of earlier Labels options and of the kind's [DefaultOptions].
// As in GoodJob, each label is stripped of leading and trailing white
// space, blank labels are dropped and repeats are stored once, in the order
// first given; a job left with no labels stores NULL. A label holding a NUL
// byte or invalid UTF-8, which Postgres text cannot store, is an error.
func Labels(labels ...string) EnqueueOption {
	return func(c *enqueueConfig) { c.labels = append(c.labels, labels...) }
}

// labelSpace is what Ruby's String#strip removes, which GoodJob applies to
// labels; unlike strings.TrimSpace it leaves Unicode spaces alone.
const labelSpace = "\x00\t\n\v\f\r "

// normalizeLabels strips, drops blank and de-duplicates labels as GoodJob
// does before storing them. It returns nil when no label is left.
func normalizeLabels(labels []string) ([]string, error) {
	var out []string
	for _, l := range labels {
		l = strings.Trim(l, labelSpace)
		switch {
		case l == "":
			continue
		case strings.IndexByte(l, 0) >= 0:
			return nil, fmt.Errorf("label %q contains a NUL byte", l)
		case !utf8.ValidString(l):
			return nil, fmt.Errorf("label %q is not valid UTF-8", l)
		}
		if !contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// Unique makes the job unique by key among the unfinished jobs of its kind:
// while a job of the same kind and key is queued, scheduled, retrying or
// running, Enqueue inserts nothing and returns that job with
// [JobRow.Duplicate] set. Once the job succeeds or is discarded, the key is
// free again. The key is stored in good_jobs.unique_key and a unique index
// enforces it, so it holds across processes. An empty key is an error.
//
// Unique overrides a key the kind derives with [UniqueBy].
func Unique(key string) EnqueueOption {
	return func(c *enqueueConfig) {
		if key == "" {
			c.err = errors.New("unique key is empty")
			return
		}
		c.uniqueKey = &key
	}
}

// EnqueueParams is one job of an EnqueueMany call.
type EnqueueParams struct {
	Args    Args
	Options []EnqueueOption
}
