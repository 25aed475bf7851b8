package goodjob

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Backoff returns the wait before the next attempt, given the number of
// attempts that have failed so far (1 after the first failure).
type Backoff func(failures int) time.Duration

// RetryPolicy says how often a failing job runs and how long it waits
// between attempts.
type RetryPolicy struct {
	// Attempts is the total number of runs, the first included. A job
	// whose last attempt fails is discarded with error_event retry_stopped.
	Attempts int
	// Wait is the backoff curve. Default Polynomial().
	Wait Backoff
}

// RetryAttemptsDefault is the number of attempts of the default policy.
const RetryAttemptsDefault = 5

// DefaultRetryPolicy is the policy of every kind unless configured: five
// attempts with ActiveJob's polynomially longer waits.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: RetryAttemptsDefault, Wait: Polynomial()}
}

func (p RetryPolicy) validate() error {
	if p.Attempts < 1 {
		return fmt.Errorf("retry attempts is %d, want at least 1", p.Attempts)
	}
	return nil
}

// wait returns the policy's delay after failures failed attempts.
func (p RetryPolicy) wait(failures int) time.Duration {
	if p.Wait == nil {
		return Polynomial()(failures)
	}
	return max(p.Wait(failures), 0)
}

// Polynomial is ActiveJob's polynomially_longer curve: failures^4 + 2
// seconds, plus up to 15 % of failures^4 as jitter, so retries of many
// jobs that failed together spread out.
func Polynomial() Backoff {
	return func(failures int) time.Duration {
		base := math.Pow(float64(failures), 4)
		jitter := 0.15 * base * rand.Float64()
		return time.Duration((base + jitter + 2) * float64(time.Second))
	}
}

// Exponential doubles base with every failure, up to limit.
func Exponential(base, limit time.Duration) Backoff {
	return func(failures int) time.Duration {
		d := base
		for i := 1; i < failures && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}

// Fixed waits d between attempts.
func Fixed(d time.Duration) Backoff {
	return func(int) time.Duration { return d }
}

// discardError ends a job at once, without retries.
type discardError struct{ err error }

func (e *discardError) Error() string { return "discarded: " + errText(e.err) }
func (e *discardError) Unwrap() error { return e.err }

// Discard returned from Work ends the job now: it is not retried, and its
// row keeps err as its error with error_event discarded.
func Discard(err error) error {
	if err == nil {
		err = errors.New("discarded")
	}
	return &discardError{err: err}
}

// snoozeError reschedules a job without counting a failure.
type snoozeError struct{ d time.Duration }

func (e *snoozeError) Error() string { return fmt.Sprintf("snoozed for %s", e.d) }

// Snooze returned from Work runs the job again after d. The attempt does
// not count as a failure and uses none of the retry policy's attempts.
func Snooze(d time.Duration) error { return &snoozeError{d: max(d, 0)} }

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
