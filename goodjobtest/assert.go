package goodjobtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/goodjob-go/goodjob"
)

// RequireEnqueued fails t unless exactly one waiting (unfinished) job
// matches: args' kind, args equal as JSON (unless AnyArgs, ArgsMatching or
// ArgsIncluding says otherwise), and every Expect. It returns the job. The
// message lists the jobs of that kind that were found and how each
// differs.
func RequireEnqueued(t testing.TB, db Querier, args goodjob.Args,
	opts ...Expect) *goodjob.JobRow {
	t.Helper()
	jobs := requireCount(t, "RequireEnqueued", db, 1, false, args, opts)
	if len(jobs) != 1 {
		return nil
	}
	return jobs[0]
}

// RequireEnqueuedN is RequireEnqueued for exactly n matching jobs:
// have_been_enqueued.exactly(n). It returns them, oldest first.
func RequireEnqueuedN(t testing.TB, db Querier, n int, args goodjob.Args,
	opts ...Expect) []*goodjob.JobRow {
	t.Helper()
	return requireCount(t, "RequireEnqueuedN", db, n, false, args, opts)
}

// RequireEnqueuedAtLeast is RequireEnqueued for n or more matching jobs:
// have_been_enqueued.at_least(n); with n = 1, "at least once". It returns
// them, oldest first.
func RequireEnqueuedAtLeast(t testing.TB, db Querier, n int, args goodjob.Args,
	opts ...Expect) []*goodjob.JobRow {
	t.Helper()
	return requireCount(t, "RequireEnqueuedAtLeast", db, n, true, args, opts)
}

// requireCount fails t unless exactly n waiting jobs match, or at least n
// with atLeast, and returns the matches; name is the caller's, for
// messages.
func requireCount(t testing.TB, name string, db Querier, n int, atLeast bool,
	args goodjob.Args, opts []Expect) []*goodjob.JobRow {
	t.Helper()
	if n < 0 {
		t.Fatalf("goodjobtest: %s: n is %d, want 0 or more", name, n)
		return nil
	}
	w, err := newWant(args, opts)
	if err != nil {
		t.Fatalf("goodjobtest: %s: %v", name, err)
		return nil
	}
	jobs, ok := enqueued(t, db, []string{w.kind})
	if !ok {
		return nil
	}
	var matches []*goodjob.JobRow
	for _, j := range jobs {
		if w.mismatch(j) == "" {
			matches = append(matches, j)
		}
	}
	if len(matches) == n || atLeast && len(matches) > n {
		return matches
	}
	bound := ""
	if atLeast {
		bound = "at least "
	}
	t.Fatalf("goodjobtest: expected %s%d enqueued %s; found %d matching among %d %s jobs:\n%s",
		bound, n, w, len(matches), len(jobs), w.kind, describe(jobs, &w))
	return nil
}

// RequireNotEnqueued fails t if any waiting job matches args and opts;
// with AnyArgs, if any job of args' kind waits at all.
func RequireNotEnqueued(t testing.TB, db Querier, args goodjob.Args, opts ...Expect) {
	t.Helper()
	w, err := newWant(args, opts)
	if err != nil {
		t.Fatalf("goodjobtest: RequireNotEnqueued: %v", err)
		return
	}
	jobs, ok := enqueued(t, db, []string{w.kind})
	if !ok {
		return
	}
	var matches []*goodjob.JobRow
	for _, j := range jobs {
		if w.mismatch(j) == "" {
			matches = append(matches, j)
		}
	}
	if len(matches) > 0 {
		t.Fatalf("goodjobtest: expected no enqueued %s; found %d:\n%s",
			w, len(matches), describe(matches, nil))
	}
}

// RequireManyEnqueued fails t unless the waiting jobs of the expected
// kinds are exactly the expected ones, in the order they were enqueued. It
// returns them in that order.
func RequireManyEnqueued(t testing.TB, db Querier, expected []ExpectedJob) []*goodjob.JobRow {
	t.Helper()
	wants := make([]want, len(expected))
	var kinds []string
	for i, e := range expected {
		w, err := newWant(e.Args, e.Expect)
		if err != nil {
			t.Fatalf("goodjobtest: RequireManyEnqueued: job %d: %v", i+1, err)
			return nil
		}
		wants[i] = w
		kinds = append(kinds, w.kind)
	}
	jobs, ok := enqueued(t, db, kinds)
	if !ok {
		return nil
	}
	if len(jobs) != len(wants) {
		t.Fatalf("goodjobtest: expected %d enqueued jobs:\n%s\nfound %d:\n%s",
			len(wants), describeWants(wants), len(jobs), describe(jobs, nil))
		return nil
	}
	for i, w := range wants {
		if d := w.mismatch(jobs[i]); d != "" {
			t.Fatalf("goodjobtest: enqueued job %d: expected %s; found %s:\n%s",
				i+1, w, d, describe(jobs, nil))
			return nil
		}
	}
	return jobs
}

func describeWants(wants []want) string {
	lines := make([]string, len(wants))
	for i, w := range wants {
		lines[i] = fmt.Sprintf("  %d. %s", i+1, w)
	}
	return strings.Join(lines, "\n")
}
