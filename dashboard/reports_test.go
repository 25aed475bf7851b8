package dashboard_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob/dashboard"
)

// scriptKind is a kind, and an error class, that would run script if the
// pages did not escape it.
const scriptKind = `<script>window.xssRan=1</script>Job`

// insertExecution writes a finished attempt that started ago before now.
func (f *fixture) insertExecution(kind, queue string, ago, duration time.Duration,
	errText string) {
	f.t.Helper()
	start := time.Now().UTC().Add(-ago)
	var errCol *string
	if errText != "" {
		errCol = &errText
	}
	_, err := f.db.Pool.Exec(f.t.Context(), `INSERT INTO good_job_executions (created_at,
		updated_at, active_job_id, job_class, queue_name, scheduled_at, finished_at, error,
		duration)
		VALUES ($1, $2, gen_random_uuid(), $3, $4, $1::timestamp - interval '1 second', $2, $5,
			$6::int8 * interval '1 microsecond')`,
		start, start.Add(duration), kind, queue, errCol, duration.Microseconds())
	require.NoError(f.t, err)
}

// insertDiscarded writes a job of kind discarded with errText ago before now.
func (f *fixture) insertDiscarded(kind, errText string, ago time.Duration) {
	f.t.Helper()
	at := time.Now().UTC().Add(-ago)
	_, err := f.db.Pool.Exec(f.t.Context(), `INSERT INTO good_jobs (id, active_job_id,
		job_class, queue_name, serialized_params, scheduled_at, created_at, updated_at,
		performed_at, finished_at, error, executions_count)
		SELECT g, g, $1, 'default', '{"arguments": [{}]}', $2, $2, $2, $2, $2, $3, 1
		FROM gen_random_uuid() AS g`, kind, at, errText)
	require.NoError(f.t, err)
}

// totalRE finds the cells of the Total row of a performance table.
var totalRE = regexp.MustCompile(`<tfoot><tr><th>Total</th>\s*((?:<td>[^<]*</td>\s*)+)`)

// cells returns the text of each <td> in s.
func cells(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td>([^<]*)</td>`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestPerformancePage(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll, ReadOnly: true})
	f.insertExecution(scriptKind, "mailers", 30*time.Minute, 1500*time.Millisecond, "")
	f.insertExecution(scriptKind, "mailers", 2*time.Hour, 4*time.Second, "E: failed")
	f.insertExecution("ReportJob", "default", 2*24*time.Hour, 9*time.Second, "")

	total := func(window string) []string {
		t.Helper()
		code, body := f.get("/performance" + window)
		require.Equal(t, http.StatusOK, code, body)
		m := totalRE.FindAllStringSubmatch(body, -1)
		require.Len(t, m, 2, "a total under the kinds and under the queues")
		require.Equal(t, m[0][1], m[1][1])
		return cells(m[0][1])
	}
	// Executions, succeeded, failed, avg, p50, p95, max, latency.
	require.Equal(t, []string{"1", "1", "0", "1.5s", "1.5s", "1.5s", "1.5s", "1s"},
		total("?window=1h"))
	require.Equal(t, []string{"2", "1", "1", "2.75s", "2.75s", "3.875s", "4s", "1s"},
		total(""), "24h by default")
	require.Equal(t, []string{"3", "2", "1", "4.833s", "4s", "8.5s", "9s", "1s"},
		total("?window=7d"))

	code, body := f.get("/performance?window=7d")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, html.EscapeString("<script>window.xssRan=1</script>Job"))
	require.NotContains(t, body, "<script>window", "the kind is escaped")
	require.Contains(t, body, `href="/admin/jobs/jobs?kind=ReportJob"`)
	require.Contains(t, body, `href="/admin/jobs/jobs?queue=mailers"`)
	require.Contains(t, body, `class="active">7d<`)
	require.Contains(t, body, `data-refresh="60"`, "reports refresh at most once a minute")
	require.Contains(t, body, `href="/admin/jobs/cleaner"`, "in the menu")

	code, body = f.get("/performance?window=" + "%3Cscript%3Ex")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "unknown window &#34;&lt;script&gt;x&#34;, want one of 1h, 24h, 7d")
	require.NotContains(t, body, "<script>x")
}

func TestCleanerPage(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll, ReadOnly: true})
	f.insertDiscarded("MailJob", scriptKind+": boom", 30*time.Minute)
	f.insertDiscarded("MailJob", "Net::ReadTimeout: slow", 2*time.Hour)
	f.insertDiscarded("FetchJob", "Net::ReadTimeout: slower", 2*24*time.Hour)
	f.insertDiscarded("FetchJob", "Net::ReadTimeout: too old", 8*24*time.Hour)

	code, body := f.get("/cleaner")
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, "<script>window", "the error class is escaped")
	require.Contains(t, body, `data-refresh="5"`)
	require.Contains(t, body, "<th>1h</th><th>3h</th><th>24h</th><th>3d</th><th>7d</th>")

	rows := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr>\s*<td>([^<]*)</td>(.*?)</tr>`).
		FindAllStringSubmatch(body, -1) {
		var counts []string
		for _, c := range regexp.MustCompile(`<td>(?:<a href="([^"]*)">)?(\d+)`).
			FindAllStringSubmatch(m[2], -1) {
			counts = append(counts, c[2])
			if c[1] != "" {
				counts[len(counts)-1] += " " + html.UnescapeString(c[1])
			}
		}
		rows[html.UnescapeString(m[1])] = counts
	}
	timeout := "/admin/jobs/jobs?q=Net%3A%3AReadTimeout&state=discarded"
	script := "/admin/jobs/jobs?q=%3Cscript%3Ewindow.xssRan%3D1%3C%2Fscript%3EJob" +
		"&state=discarded"
	mail := "/admin/jobs/jobs?kind=MailJob&state=discarded"
	fetch := "/admin/jobs/jobs?kind=FetchJob&state=discarded"
	require.Equal(t, map[string][]string{
		"Net::ReadTimeout": {"0", "1 " + timeout, "1 " + timeout, "2 " + timeout,
			"2 " + timeout},
		scriptKind: {"1 " + script, "1 " + script, "1 " + script, "1 " + script,
			"1 " + script},
		"MailJob":  {"1 " + mail, "2 " + mail, "2 " + mail, "2 " + mail, "2 " + mail},
		"FetchJob": {"0", "0", "0", "1 " + fetch, "1 " + fetch},
	}, rows)

	// The links list the jobs they count, and more: the jobs page has no
	// window.
	code, body = f.get(strings.TrimPrefix(timeout, "/admin/jobs"))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 3, strings.Count(body, `<tr class="job"`))
	code, body = f.get(strings.TrimPrefix(script, "/admin/jobs"))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1, strings.Count(body, `<tr class="job"`))

	empty := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	code, body = empty.get("/cleaner")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "No job was discarded in the last 7d.")
}
