package goodjob

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// ErrUniqueConflict is returned, inside a *JobActionError, by RetryJob for
// a discarded job whose unique key an unfinished job of its kind holds now:
// retrying it would give the key two unfinished jobs. RetryJobs skips such
// jobs, and of several discarded jobs that share a key it retries the newest.
var ErrUniqueConflict = errors.New("goodjob: unique key held by another unfinished job")

// UniqueBy makes every job of the kind unique by the key that key returns
// for its args, as if each Enqueue call passed [Unique] with it. An
// enqueue's own Unique option takes precedence. Like [DefaultOptions], it
// applies to jobs enqueued through the Client the kind is registered on.
// An empty key is an error at enqueue time, so no job silently loses its
// uniqueness. T must be the args type the worker is registered for, or a
// pointer to it.
func UniqueBy[T Args](key func(args T) string) WorkerOption {
	return func(c *workerConfig) {
		if key == nil {
			// A nil uniqueType with a uniqueBy is what Register reports.
			c.uniqueBy, c.uniqueType = func(Args) (string, error) {
				return "", errors.New("UniqueBy with a nil function")
			}, nil
			return
		}
		want := reflect.TypeFor[T]()
		c.uniqueType = want
		c.uniqueBy = func(a Args) (string, error) {
			t, ok := argsAs[T](a)
			if !ok {
				return "", fmt.Errorf("UniqueBy takes %s, not %T", want, a)
			}
			k := key(t)
			if k == "" {
				return "", errors.New("UniqueBy returned an empty unique key")
			}
			return k, nil
		}
	}
}

// validateUnique checks at Register that UniqueBy takes the worker's args
// type, with or without a pointer.
func (c *workerConfig) validateUnique(worker reflect.Type) error {
	if c.uniqueBy == nil {
		return nil
	}
	if c.uniqueType == nil {
		return errors.New("UniqueBy with a nil function")
	}
	if elem(c.uniqueType) != elem(worker) {
		return fmt.Errorf("UniqueBy takes %s, but the worker takes %s", c.uniqueType, worker)
	}
	return nil
}

func elem(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

// argsAs returns a as a T, following or taking a pointer when a and T
// differ only by one.
func argsAs[T Args](a Args) (T, bool) {
	if t, ok := a.(T); ok {
		return t, true
	}
	var zero T
	v := reflect.ValueOf(a)
	want := reflect.TypeFor[T]()
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Type() == want:
		return v.Elem().Interface().(T), true
	case want.Kind() == reflect.Pointer && want.Elem() == v.Type():
		p := reflect.New(v.Type())
		p.Elem().Set(v)
		return p.Interface().(T), true
	}
	return zero, false
}

// deriveUniqueKey sets ec's unique key from the kind's UniqueBy when the enqueue
// gave none.
func (ec *enqueueConfig) deriveUniqueKey(h *handler, args Args) error {
	if ec.uniqueKey != nil || h == nil || h.cfg.uniqueBy == nil {
		return nil
	}
	key, err := h.cfg.uniqueBy(args)
	if err != nil {
		return err
	}
	ec.uniqueKey = &key
	return nil
}

// insertUnique writes the prepared job p, or returns the unfinished job
// that holds its unique key, marked Duplicate.
func (c *Client) insertUnique(ctx context.Context, db jobsql.DBTX, p jobsql.InsertParams,
	row *JobRow) (*JobRow, error) {
	j, inserted, err := jobsql.InsertUnique(ctx, db, c.now().UTC(), p)
	if err != nil {
		return nil, err
	}
	if inserted {
		return row, nil
	}
	return duplicateRow(j), nil
}

func duplicateRow(j jobsql.AdminJob) *JobRow {
	r := newJobRecord(j).JobRow
	r.Duplicate = true
	return &r
}

// insertManyUnique writes ps, some of which have unique keys, and fills in
// rows: a job whose key is held, by a stored job or by an earlier job of
// the same batch, becomes that job, marked Duplicate. It reports which rows
// it inserted, for the wake-ups.
func (c *Client) insertManyUnique(ctx context.Context, db jobsql.DBTX,
	ps []jobsql.InsertParams, rows []*JobRow) ([]bool, error) {
	// Keep the first job of each kind and key: one statement cannot both
	// insert a key and then find it taken by its own row.
	first := make(map[[2]string]int)
	sent := make([]jobsql.InsertParams, 0, len(ps))
	at := make([]int, len(ps))       // index in sent of the job that answers ps[i]
	owner := make([]int, 0, len(ps)) // index in ps of each job in sent
	for i, p := range ps {
		if p.UniqueKey != nil {
			ref := [2]string{p.Kind, *p.UniqueKey}
			if j, ok := first[ref]; ok {
				at[i] = j
				continue
			}
			first[ref] = len(sent)
		}
		at[i] = len(sent)
		sent, owner = append(sent, p), append(owner, i)
	}
	jobs, inserted, err := jobsql.InsertManyUnique(ctx, db, c.now().UTC(), sent)
	if err != nil {
		return nil, err
	}
	wrote := make([]bool, len(ps))
	for i := range ps {
		j := at[i]
		switch {
		case owner[j] == i && inserted[j]:
			wrote[i] = true
		case inserted[j]:
			r := *rows[owner[j]]
			r.Duplicate = true
			rows[i] = &r
		default:
			rows[i] = duplicateRow(jobs[j])
		}
	}
	return wrote, nil
}
