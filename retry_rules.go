package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// ErrorMatch reports whether a rule applies to an error a job returned.
// [MatchIs] and [MatchAs] build the usual ones; any function will do.
type ErrorMatch func(err error) bool

// MatchIs matches errors for which errors.Is(err, target) holds.
func MatchIs(target error) ErrorMatch {
	return func(err error) bool { return errors.Is(err, target) }
}

// MatchAs matches errors that have an E in their tree, as errors.As finds
// them: MatchAs[*net.OpError]() or MatchAs[interface{ Timeout() bool }]().
func MatchAs[E error]() ErrorMatch {
	return func(err error) bool {
		_, ok := errors.AsType[E](err)
		return ok
	}
}

// JobErrorFunc is called with a job and the error that ended it: by
// [DiscardOn] when a job is discarded, by [OnExhausted] when its last
// attempt failed and by [OnDiscarded] in both cases. It runs on the
// worker's goroutine before the outcome is written; a panic in it is
// logged and otherwise ignored.
type JobErrorFunc func(ctx context.Context, job *JobInfo, err error)

// errorRule is one RetryOn or DiscardOn declaration.
type errorRule struct {
	match   ErrorMatch
	discard bool
	policy  RetryPolicy
	onError []JobErrorFunc
}

// RetryOn retries the errors that match with policy instead of the kind's
// default policy. Rules of RetryOn and DiscardOn are tried in the order
// given and the first that matches wins, so declare specific errors
// before general ones. Attempts counts every attempt of the job, whatever
// error ended the earlier ones.
func RetryOn(match ErrorMatch, policy RetryPolicy) WorkerOption {
	return func(c *workerConfig) {
		c.rules = append(c.rules, errorRule{match: match, policy: policy})
	}
}

// DiscardOn ends a job at once, without retries, when its error matches,
// as if Work had returned [Discard]. Each fn is then called with the job
// and the error, to mark an order failed or tell a user.
func DiscardOn(match ErrorMatch, fn ...JobErrorFunc) WorkerOption {
	return func(c *workerConfig) {
		c.rules = append(c.rules, errorRule{match: match, discard: true, onError: fn})
	}
}

// OnExhausted calls fn when a job of this kind is given up because its
// last attempt failed (error_event retry_stopped).
func OnExhausted(fn JobErrorFunc) WorkerOption {
	return func(c *workerConfig) { c.onExhausted = append(c.onExhausted, fn) }
}

// OnDiscarded calls fn whenever a job of this kind ends with an error, as
// ActiveJob's after_discard and Sidekiq's death handlers: when Work
// returned [Discard], when a [DiscardOn] rule matched (after that rule's
// own callbacks) and when its last attempt failed (after [OnExhausted]).
// In Config.ErrorRules it is the one hook for every job given up.
func OnDiscarded(fn JobErrorFunc) WorkerOption {
	return func(c *workerConfig) { c.onDiscarded = append(c.onDiscarded, fn) }
}

// validateRules checks the kind's error rules at Register.
func (wc *workerConfig) validateRules() error {
	for i, r := range wc.rules {
		if r.match == nil {
			return fmt.Errorf("error rule %d has a nil match", i+1)
		}
		if r.discard {
			continue
		}
		if err := r.policy.validate(); err != nil {
			return fmt.Errorf("RetryOn rule %d: %w", i+1, err)
		}
	}
	return nil
}

// newClientRules applies Config.ErrorRules to the client-wide rules. Only
// options that do not depend on a kind belong there: the error rules and
// the hooks for jobs given up.
func newClientRules(opts []WorkerOption) (workerConfig, error) {
	var all workerConfig
	for i, o := range opts {
		if o == nil {
			return all, fmt.Errorf("goodjob: Config.ErrorRules[%d] is nil", i)
		}
		var one workerConfig
		o(&one)
		if !one.onlyErrorRules() {
			return all, fmt.Errorf("goodjob: Config.ErrorRules[%d] is not RetryOn, DiscardOn, "+
				"OnExhausted or OnDiscarded; set other options on the kind "+
				"or in Config.Retry and Config.Middleware", i)
		}
		if err := one.validateRules(); err != nil {
			return all, fmt.Errorf("goodjob: Config.ErrorRules[%d]: %w", i, err)
		}
		o(&all)
	}
	return all, nil
}

// onlyErrorRules reports whether wc holds nothing but error rules and hooks.
func (wc *workerConfig) onlyErrorRules() bool {
	return !wc.timeoutSet && wc.retry == nil && wc.middleware == nil &&
		wc.defaults == nil && wc.uniqueBy == nil && wc.concurrency == nil
}

// rule returns the first rule that matches err, or nil.
func (wc *workerConfig) rule(err error) *errorRule {
	for i := range wc.rules {
		if wc.rules[i].match(err) {
			return &wc.rules[i]
		}
	}
	return nil
}

// rule returns the kind's first rule that matches err, else the first
// client-wide one, else nil: a kind's rules take precedence.
func (c *Client) rule(h *handler, err error) *errorRule {
	if r := h.cfg.rule(err); r != nil {
		return r
	}
	return c.rules.rule(err)
}

// basePolicy is the kind's policy for errors no rule matches.
func (h *handler) basePolicy(def RetryPolicy) RetryPolicy {
	if h.cfg.retry != nil {
		return *h.cfg.retry
	}
	return def
}

// maxAttempts is the most attempts any of the kind's policies, or of the
// client-wide rules, allows. A job claimed past it has used them all up in
// interrupted runs.
func (h *handler) maxAttempts(def RetryPolicy, clientRules []errorRule) int {
	n := h.basePolicy(def).Attempts
	for _, rules := range [2][]errorRule{h.cfg.rules, clientRules} {
		for _, r := range rules {
			if !r.discard {
				n = max(n, r.policy.Attempts)
			}
		}
	}
	return n
}

// callErrorFuncs runs callbacks, logging rather than propagating panics:
// the job's outcome is decided already.
func (c *Client) callErrorFuncs(ctx context.Context, fns []JobErrorFunc, info *JobInfo,
	err error) {
	for _, fn := range fns {
		if fn == nil {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.logger.Error("job error callback panicked",
						slog.String(keyJobID, info.ID.String()),
						slog.String(keyKind, info.Kind), slog.Any("panic", r))
				}
			}()
			fn(ctx, info, err)
		}()
	}
}
