package dashboard

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/goodjob-go/goodjob"
)

// performanceWindows are the windows the performance page offers, by their
// names in the window query parameter.
var performanceWindows = []struct {
	Name     string
	Duration time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// performanceWindowDefault names the window shown without a parameter.
const performanceWindowDefault = "24h"

// performanceRows caps the attempts one page view reads, newest first, so
// that a busy week renders in about a tenth of a second: the percentiles
// sort every row read.
const performanceRows = 100_000

// performanceRefresh is the shortest live refresh of the performance page:
// its figures cover hours, and each refresh can read a million executions.
const performanceRefresh = time.Minute

type performanceData struct {
	Window  string
	Windows []string
	Error   string
	Report  *goodjob.PerformanceReport
	Tables  []performanceTable
}

// performanceTable is one grouping of the report: by kind or by queue.
type performanceTable struct {
	Title   string // the name column's head
	Heading string
	Param   string // the /jobs filter that lists a row's jobs
	Rows    []goodjob.PerformanceStats
}

func (h *handler) performance(w http.ResponseWriter, r *http.Request) {
	d := performanceData{Window: r.URL.Query().Get("window")}
	if d.Window == "" {
		d.Window = performanceWindowDefault
	}
	var window time.Duration
	for _, pw := range performanceWindows {
		d.Windows = append(d.Windows, pw.Name)
		if pw.Name == d.Window {
			window = pw.Duration
		}
	}
	if window == 0 {
		w.WriteHeader(http.StatusBadRequest)
		d.Error = fmt.Sprintf("unknown window %q, want one of %s", d.Window,
			strings.Join(d.Windows, ", "))
		h.render(w, r, "performance", "Performance", d)
		return
	}
	rep, err := h.client.Performance(r.Context(),
		goodjob.PerformanceParams{Since: time.Now().Add(-window), Limit: performanceRows})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Report = rep
	d.Tables = []performanceTable{
		{Title: "Kind", Heading: "By kind", Param: "kind", Rows: rep.Kinds},
		{Title: "Queue", Heading: "By queue", Param: "queue", Rows: rep.Queues},
	}
	h.render(w, r, "performance", "Performance", d)
}

type cleanerData struct {
	Summary *goodjob.DiscardedSummary
	Windows []string
	Widest  string
	Columns int // of each table: the name and one per window
	Tables  []cleanerTable
}

// cleanerTable is one grouping of the discarded jobs: by error class or by
// kind.
type cleanerTable struct {
	Title   string // the name column's head
	Heading string
	Rows    []cleanerRow
}

type cleanerRow struct {
	goodjob.DiscardedGroup
	// Query lists the row's discarded jobs on the jobs page. It cannot
	// narrow them to a window, and an error class is found by text search,
	// which also matches the class's name elsewhere in the error or args.
	Query template.URL
}

func (h *handler) cleaner(w http.ResponseWriter, r *http.Request) {
	s, err := h.client.DiscardedSummary(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := cleanerData{Summary: s}
	for _, win := range s.Windows {
		d.Windows = append(d.Windows, windowName(win))
	}
	d.Widest, d.Columns = d.Windows[len(d.Windows)-1], len(d.Windows)+1
	classes := cleanerTable{Title: "Error class", Heading: "By error class"}
	for _, g := range s.ByErrorClass {
		q := query("state", string(goodjob.JobStateDiscarded), "q", g.Name)
		classes.Rows = append(classes.Rows, cleanerRow{DiscardedGroup: g, Query: q})
	}
	kinds := cleanerTable{Title: "Kind", Heading: "By kind"}
	for _, g := range s.ByKind {
		q := query("state", string(goodjob.JobStateDiscarded), "kind", g.Name)
		kinds.Rows = append(kinds.Rows, cleanerRow{DiscardedGroup: g, Query: q})
	}
	d.Tables = []cleanerTable{classes, kinds}
	h.render(w, r, "cleaner", "Cleaner", d)
}

// windowName writes a window as the cleaner's column heads do: whole days
// from two days up, hours below.
func windowName(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= 2*day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}
