// Package goodjobtest helps users of goodjob test their job code: assert
// that code under test enqueued a job (RequireEnqueued and its siblings,
// with counts and partial args matching), run a job's worker now (Work),
// run every due job (Drain) or every waiting job, scheduled ones included
// (DrainWith), and get a migrated throwaway database (NewDB). They are the
// Go forms of GoodJob's RSpec patterns: have_been_enqueued, perform_now and
// perform_enqueued_jobs.
//
// The assertions read good_jobs through a Querier: a pool, or the pgx.Tx of
// a handler test that rolls back at the end, so the check sees the
// test's uncommitted rows.
package goodjobtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob"
)

// Querier reads rows: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Expect narrows what RequireEnqueued and its siblings accept.
type Expect func(*expectation)

type expectation struct {
	anyArgs bool
	// argsMatch replaces the comparison of the args as JSON, for
	// ArgsMatching and ArgsIncluding; argsDesc describes it in messages.
	argsMatch func(raw []byte) bool
	argsDesc  string
	err       error // from building an option, reported by the assertion
	queue     *string
	priority  *int
	at        *time.Time
	tolerance time.Duration
	labels    []string
}

// Queue expects the job in the named queue.
func Queue(name string) Expect { return func(e *expectation) { e.queue = &name } }

// Priority expects the job's priority.
func Priority(n int) Expect { return func(e *expectation) { e.priority = &n } }

// ScheduledAt expects the job's scheduled time within tolerance of at.
func ScheduledAt(at time.Time, tolerance time.Duration) Expect {
	return func(e *expectation) { e.at, e.tolerance = &at, tolerance }
}

// Labels expects exactly these labels, in any order.
func Labels(labels ...string) Expect { return func(e *expectation) { e.labels = labels } }

// AnyArgs matches a job of the args' kind whatever its args are.
func AnyArgs() Expect { return func(e *expectation) { e.anyArgs = true } }

// ArgsMatching matches a job of the args' kind whose args, decoded into A,
// satisfy match, in place of comparing all of them: RSpec's
// have_been_enqueued.with(satisfy { ... }). The args passed to the assertion
// then only name the kind; their zero value will do. Args that do not
// decode into A do not match.
func ArgsMatching[A goodjob.Args](match func(args A) bool) Expect {
	return func(e *expectation) {
		var zero A
		e.argsDesc = fmt.Sprintf("accepted by an ArgsMatching func of %T", zero)
		e.argsMatch = func(raw []byte) bool {
			var a A
			return json.Unmarshal(raw, &a) == nil && match(a)
		}
	}
}

// ArgsIncluding matches a job of the args' kind whose args, as JSON,
// include subset encoded as JSON, in place of comparing all of them:
// RSpec's hash_including. An object includes another when it has each of
// its keys with a value that includes the other's value; an array includes
// another of the same length whose elements each include the other's
// element at the same index; any other value must be equal. Pass a map, or
// a struct whose fields are omitempty, so that fields left out do not have
// to match. The args passed to the assertion then only name the kind.
func ArgsIncluding(subset any) Expect {
	return func(e *expectation) {
		raw, err := json.Marshal(subset)
		if err != nil {
			e.err = fmt.Errorf("ArgsIncluding: encode %T: %w", subset, err)
			return
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			e.err = fmt.Errorf("ArgsIncluding: decode %s: %w", raw, err)
			return
		}
		e.argsDesc = "including " + string(raw)
		e.argsMatch = func(raw []byte) bool {
			var got any
			return json.Unmarshal(raw, &got) == nil && includes(got, want)
		}
	}
}

// includes reports whether got includes want, as ArgsIncluding says.
func includes(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !includes(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !includes(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// ExpectedJob is one job for RequireManyEnqueued.
type ExpectedJob struct {
	Args   goodjob.Args
	Expect []Expect
}

// enqueuedSQL lists the waiting (unfinished) jobs of some kinds.
const enqueuedSQL = `
SELECT id, job_class, coalesce(queue_name, ''), coalesce(priority, 0),
	coalesce(scheduled_at, created_at), created_at, serialized_params->'arguments'->0, labels
FROM good_jobs WHERE finished_at IS NULL AND job_class = ANY($1)
ORDER BY created_at, id`

// enqueued loads the unfinished jobs of kinds, oldest first.
func enqueued(t testing.TB, db Querier, kinds []string) ([]*goodjob.JobRow, bool) {
	t.Helper()
	rows, err := db.Query(context.Background(), enqueuedSQL, kinds)
	if err != nil {
		t.Fatalf("goodjobtest: list enqueued jobs: %v", err)
		return nil, false
	}
	defer rows.Close()
	var out []*goodjob.JobRow
	for rows.Next() {
		var j goodjob.JobRow
		if err := rows.Scan(&j.ID, &j.Kind, &j.Queue, &j.Priority, &j.ScheduledAt,
			&j.CreatedAt, &j.Args, &j.Labels); err != nil {
			t.Fatalf("goodjobtest: list enqueued jobs: %v", err)
			return nil, false
		}
		j.ActiveJobID = j.ID
		out = append(out, &j)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("goodjobtest: list enqueued jobs: %v", err)
		return nil, false
	}
	return out, true
}

// want is one expected job, with its args encoded.
type want struct {
	kind string
	args any // decoded JSON, nil with AnyArgs
	exp  expectation
}

func newWant(args goodjob.Args, opts []Expect) (want, error) {
	w := want{kind: args.Kind()}
	for _, o := range opts {
		o(&w.exp)
	}
	if w.exp.err != nil {
		return w, w.exp.err
	}
	if w.exp.anyArgs || w.exp.argsMatch != nil {
		return w, nil
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return w, fmt.Errorf("encode %s args: %w", w.kind, err)
	}
	err = json.Unmarshal(raw, &w.args)
	return w, err
}

// mismatch says how j differs from w, or "" when it matches.
func (w want) mismatch(j *goodjob.JobRow) string {
	var diffs []string
	if j.Kind != w.kind {
		diffs = append(diffs, fmt.Sprintf("kind %s", j.Kind))
	}
	switch {
	case w.exp.argsMatch != nil:
		if !w.exp.argsMatch(j.Args) {
			diffs = append(diffs, "args "+compact(j.Args))
		}
	case !w.exp.anyArgs:
		var got any
		if err := json.Unmarshal(j.Args, &got); err != nil || !reflect.DeepEqual(got, w.args) {
			diffs = append(diffs, "args "+compact(j.Args))
		}
	}
	if w.exp.queue != nil && j.Queue != *w.exp.queue {
		diffs = append(diffs, fmt.Sprintf("queue %q", j.Queue))
	}
	if w.exp.priority != nil && j.Priority != *w.exp.priority {
		diffs = append(diffs, fmt.Sprintf("priority %d", j.Priority))
	}
	if w.exp.at != nil && absDuration(j.ScheduledAt.Sub(*w.exp.at)) > w.exp.tolerance {
		diffs = append(diffs, "scheduled at "+j.ScheduledAt.UTC().Format(time.RFC3339Nano))
	}
	if w.exp.labels != nil && !sameSet(j.Labels, w.exp.labels) {
		diffs = append(diffs, fmt.Sprintf("labels %q", j.Labels))
	}
	return strings.Join(diffs, ", ")
}

// String describes what w expects.
func (w want) String() string {
	s := w.kind + " job"
	switch {
	case w.exp.argsMatch != nil:
		s += " with args " + w.exp.argsDesc
	case !w.exp.anyArgs:
		b, _ := json.Marshal(w.args)
		s += " with args " + string(b)
	}
	if w.exp.queue != nil {
		s += fmt.Sprintf(", queue %q", *w.exp.queue)
	}
	if w.exp.priority != nil {
		s += fmt.Sprintf(", priority %d", *w.exp.priority)
	}
	if w.exp.at != nil {
		s += fmt.Sprintf(", scheduled at %s ± %s", w.exp.at.UTC().Format(time.RFC3339Nano),
			w.exp.tolerance)
	}
	if w.exp.labels != nil {
		s += fmt.Sprintf(", labels %q", w.exp.labels)
	}
	return s
}

// compact writes JSON without the spaces jsonb adds.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int)
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// describe lists jobs with how each differs from w, for failure messages.
func describe(jobs []*goodjob.JobRow, w *want) string {
	if len(jobs) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for i, j := range jobs {
		fmt.Fprintf(&b, "  %d. %s %s queue %q priority %d scheduled at %s args %s",
			i+1, j.Kind, j.ID, j.Queue, j.Priority,
			j.ScheduledAt.UTC().Format(time.RFC3339Nano), compact(j.Args))
		if w != nil {
			if d := w.mismatch(j); d != "" {
				fmt.Fprintf(&b, " (differs: %s)", d)
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
