// Package envflag defines command-line flags whose defaults come from
// environment variables, the way GoodJob's CLI reads GOOD_JOB_QUEUES and
// its siblings: a flag given on the command line wins over the variable,
// and the variable wins over the built-in default.
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Set is a flag.FlagSet that also reads environment variables.
type Set struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
}

// New returns a Set that reports parse errors instead of exiting, and
// looks variables up with getenv.
func New(name string, getenv func(string) string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{FlagSet: fs, getenv: getenv}
}

// Parse reports a bad environment variable first, then parses args.
func (s *Set) Parse(args []string) error {
	if err := errors.Join(s.errs...); err != nil {
		return err
	}
	return s.FlagSet.Parse(args)
}

// define registers v under name, first setting it from env when set.
func (s *Set) define(v flag.Value, name, env, usage string) {
	if env != "" {
		if raw := strings.TrimSpace(s.getenv(env)); raw != "" {
			if err := v.Set(raw); err != nil {
				s.errs = append(s.errs, fmt.Errorf("environment variable %s=%q: %w", env, raw, err))
			}
		}
		usage += " (env " + env + ")"
	}
	s.Var(v, name, usage)
}

// String defines a string flag that defaults to $env, then to def.
func (s *Set) String(name, env, def, usage string) *string {
	p := new(string)
	*p = def
	s.define((*stringValue)(p), name, env, usage)
	return p
}

// Int defines an int flag that defaults to $env, then to def.
func (s *Set) Int(name, env string, def int, usage string) *int {
	p := new(int)
	*p = def
	s.define((*intValue)(p), name, env, usage)
	return p
}

// Bool defines a bool flag that defaults to $env, then to def.
func (s *Set) Bool(name, env string, def bool, usage string) *bool {
	p := new(bool)
	*p = def
	s.define((*boolValue)(p), name, env, usage)
	return p
}

// Duration defines a duration flag that defaults to $env, then to def. It
// takes Go durations ("1m30s") and, like GoodJob's variables, plain
// numbers of seconds ("10", "0.5", "-1").
func (s *Set) Duration(name, env string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = def
	s.define((*durationValue)(p), name, env, usage)
	return p
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = intValue(n)
	return nil
}

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) String() string { return time.Duration(*v).String() }

// ParseDuration reads a Go duration or a number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 10s or 5m, or a number of seconds", s)
	}
	return d, nil
}
