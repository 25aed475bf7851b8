package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/goodjob-go/goodjob"
)

// page is what every template receives.
type page struct {
	Title    string
	Nav      string // the active menu entry
	Base     string
	CSRF     string
	ReadOnly bool
	Refresh  int // seconds; 0 turns live refresh off
	Flash    string
	Data     any
}

// render writes a page. A request with the X-Partial header gets only the
// page's content, which the live refresh swaps into the open page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	p := page{
		Title: title, Nav: name, Base: h.cfg.BasePath, CSRF: h.csrfToken(w, r),
		ReadOnly: h.cfg.ReadOnly, Flash: r.URL.Query().Get("flash"), Data: data,
	}
	if h.cfg.RefreshInterval > 0 {
		p.Refresh = int(h.cfg.RefreshInterval.Seconds())
	}
	if p.Refresh > 0 && name == "performance" {
		p.Refresh = max(p.Refresh, int(performanceRefresh.Seconds()))
	}
	tmpl := "layout.html"
	if r.Header.Get("X-Partial") != "" {
		tmpl = "content"
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, tmpl, p); err != nil {
		h.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// fail logs err and answers 500 without details, which may hold job data.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.Error("dashboard request", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal error; see the server's log", http.StatusInternalServerError)
}

var funcs = template.FuncMap{
	"ago":        ago,
	"time":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"ptime":      ptime,
	"duration":   func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"pretty":     prettyJSON,
	"states":     func() []goodjob.JobState { return goodjob.JobStates },
	"query":      query,
	"join":       strings.Join,
	"bar":        bar,
	"pauseArgs":  pauseArgs,
	"mul":        func(a, b int) int { return a * b },
	"list":       func(s ...string) []string { return s },
	"pathEscape": url.PathEscape,
	"count":      func(m map[goodjob.JobState]int64, s string) int64 { return m[goodjob.JobState(s)] },
	"sub":        func(a, b int64) int64 { return a - b },
	"percent":    percent,
	"indent":     indentValue,
}

func ago(t time.Time) string {
	d := time.Since(t)
	if d < 0 {
		return "in " + (-d).Round(time.Second).String()
	}
	return d.Round(time.Second).String() + " ago"
}

func ptime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// prettyJSON indents raw JSON for display; html/template escapes it.
func prettyJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// indentValue writes v as indented JSON for display; html/template escapes
// it, so the encoder need not.
func indentValue(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// percent is n's share of total, rounded down, for progress bars.
func percent(n, total int) int {
	if total <= 0 {
		return 0
	}
	return n * 100 / total
}

// query builds a query string from key, value pairs, leaving out empty
// values.
func query(kv ...string) template.URL {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return template.URL("?" + v.Encode())
}

// bar scales n against max to a height in pixels for the chart.
func bar(n, max int64) int64 {
	if max == 0 {
		return 0
	}
	return n * 100 / max
}

// pauseForm is what the pause-form template needs.
type pauseForm struct {
	Base, CSRF, What, Name string
	Paused                 bool
}

// pauseArgs builds a pause or resume button for one queue, kind or label.
func pauseArgs(p page, what, name string) pauseForm {
	f := pauseForm{Base: p.Base, CSRF: p.CSRF, What: what, Name: name}
	if d, ok := p.Data.(queuesData); ok {
		switch what {
		case "queue":
			f.Paused = slices.Contains(d.Paused.Queues, name)
		case "kind":
			f.Paused = slices.Contains(d.Paused.Kinds, name)
		case "label":
			f.Paused = slices.Contains(d.Paused.Labels, name)
		}
	}
	return f
}
