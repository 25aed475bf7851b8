package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type mailArgs struct {
	To string `json:"to"`
}

func (mailArgs) Kind() string { return "MailJob" }

// xss is an argument that would run script if the dashboard did not escape.
const xss = `<script>window.xssRan = true</script><img src=x onerror="window.xssRan=true">`

// fixture is a dashboard on a fresh schema, served over HTTP.
type fixture struct {
	t      *testing.T
	db     *testdb.DB
	client *goodjob.Client
	srv    *httptest.Server
	http   *http.Client
}

func allowAll(http.ResponseWriter, *http.Request) bool { return true }

func setup(t *testing.T, cfg dashboard.Config) *fixture {
	t.Helper()
	return setupWith(t, goodjob.Config{}, cfg)
}

// setupWith is setup with a Client made from gcfg.
func setupWith(t *testing.T, gcfg goodjob.Config, cfg dashboard.Config) *fixture {
	t.Helper()
	db := testdb.New(t)
	gcfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := goodjob.New(db.Pool, gcfg)
	require.NoError(t, err)
	if cfg.BasePath == "" {
		cfg.BasePath = "/admin/jobs"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle(cfg.BasePath+"/", dashboard.New(c, cfg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return &fixture{t: t, db: db, client: c, srv: srv, http: hc}
}

func (f *fixture) url(path string) string { return f.srv.URL + "/admin/jobs" + path }

// get fetches a page and returns its status and body.
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	resp, err := f.http.Get(f.url(path))
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp.StatusCode, string(b)
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post submits a form with the page's token, as a browser would.
func (f *fixture) post(path string, form url.Values) *http.Response {
	f.t.Helper()
	_, body := f.get("/queues")
	m := tokenRE.FindStringSubmatch(body)
	require.NotNil(f.t, m, "no token on the page")
	form.Set("csrf_token", m[1])
	return f.postRaw(path, form, nil)
}

func (f *fixture) postRaw(path string, form url.Values, header http.Header) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url(path), strings.NewReader(form.Encode()))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.http.Do(req)
	require.NoError(f.t, err)
	resp.Body.Close()
	return resp
}

func (f *fixture) enqueue(args goodjob.Args, opts ...goodjob.EnqueueOption) uuid.UUID {
	f.t.Helper()
	row, err := f.client.Enqueue(context.Background(), args, opts...)
	require.NoError(f.t, err)
	return row.ID
}

func (f *fixture) state(id uuid.UUID) goodjob.JobState {
	f.t.Helper()
	j, err := f.client.Job(context.Background(), id)
	require.NoError(f.t, err)
	return j.State
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{})
	code, body := f.get("/")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "AuthorizeFunc")

	g := setup(t, dashboard.Config{AuthorizeFunc: dashboard.BasicAuth("ops", "s3cret")})
	code, _ = g.get("/")
	require.Equal(t, http.StatusUnauthorized, code)
	req, _ := http.NewRequest(http.MethodGet, g.url("/"), nil)
	req.SetBasicAuth("ops", "wrong")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	req.SetBasicAuth("ops", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestPages(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.enqueue(mailArgs{To: xss}, goodjob.Queue("mailers"), goodjob.Labels("welcome"))
	f.enqueue(mailArgs{To: "b@example.com"})

	code, body := f.get("/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `data-state="queued">2<`)
	require.Contains(t, body, "mailers")

	code, body = f.get("/jobs?queue=mailers")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, id.String())
	require.NotContains(t, body, "b@example.com", "filtered out")
	require.NotContains(t, body, "<script>window.xssRan", "args are escaped")
	require.NotContains(t, body, "<img src=x")
	require.Contains(t, body, "Apply to all 1 matching")

	code, body = f.get("/jobs?label=welcome&q=XSSRAN")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, id.String(), "search ignores case")

	code, body = f.get("/jobs?state=bogus")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "unknown state")

	code, body = f.get("/jobs/" + id.String())
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "MailJob")
	require.Contains(t, body, "&lt;script&gt;")
	require.NotContains(t, body, "<script>window")

	code, _ = f.get("/jobs/" + uuid.NewString())
	require.Equal(t, http.StatusNotFound, code)

	code, body = f.get("/processes")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "No process is running")
	stale := uuid.New()
	_, err := f.db.Pool.Exec(context.Background(), `INSERT INTO good_job_processes
		(id, created_at, updated_at, state) VALUES ($1, now() AT TIME ZONE 'utc',
		(now() AT TIME ZONE 'utc') - interval '1 hour', '{"scheduler": "goodjob-go"}')`, stale)
	require.NoError(t, err)
	_, body = f.get("/processes")
	require.Regexp(t, `data-id="`+stale.String()+`"(?s:.)*?<td class="status"><span class="error">gone`, body)

	code, _ = f.get("/static/app.css")
	require.Equal(t, http.StatusOK, code)

	req, _ := http.NewRequest(http.MethodGet, f.url("/jobs"), nil)
	req.Header.Set("X-Partial", "1")
	resp, err := f.http.Do(req)
	require.NoError(t, err)
	partial, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(partial), "<html", "live refresh gets only the content")
	require.Contains(t, string(partial), "<table")
}

func TestActions(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	ctx := context.Background()
	a := f.enqueue(mailArgs{To: "a"})
	b := f.enqueue(mailArgs{To: "b"}, goodjob.Queue("bulk"))
	c := f.enqueue(mailArgs{To: "c"}, goodjob.Queue("bulk"))

	resp := f.post("/jobs/"+a.String()+"/discard", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, goodjob.JobStateDiscarded, f.state(a))

	resp = f.post("/jobs/"+a.String()+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, goodjob.JobStateQueued, f.state(a))

	resp = f.post("/jobs", url.Values{"action": {"discard"}, "scope": {"all"},
		"queue": {"bulk"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "2+jobs")
	require.Equal(t, goodjob.JobStateDiscarded, f.state(b))
	require.Equal(t, goodjob.JobStateDiscarded, f.state(c))
	require.Equal(t, goodjob.JobStateQueued, f.state(a), "outside the filter")

	resp = f.post("/jobs", url.Values{"action": {"delete"}, "scope": {"selected"},
		"id": {b.String()}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, err := f.client.Job(ctx, b)
	require.ErrorIs(t, err, goodjob.ErrJobNotFound)
	require.Equal(t, goodjob.JobStateDiscarded, f.state(c), "not selected")

	resp = f.post("/pauses", url.Values{"action": {"pause"}, "what": {"queue"},
		"name": {"mailers"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	paused, err := f.client.Pauses(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"mailers"}, paused.Queues)
	_, body := f.get("/queues")
	require.Contains(t, body, `value="resume"`)

	resp = f.post("/jobs/"+a.String()+"/explode", url.Values{})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestActions_Forgery(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.enqueue(mailArgs{To: "a"})
	f.get("/") // gets the token cookie

	resp := f.postRaw("/jobs/"+id.String()+"/discard", url.Values{}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token")
	resp = f.postRaw("/jobs/"+id.String()+"/discard",
		url.Values{"csrf_token": {strings.Repeat("x", 43)}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "wrong token")

	code, body := f.get("/queues")
	require.Equal(t, http.StatusOK, code, body)
	token := tokenRE.FindStringSubmatch(body)[1]
	resp = f.postRaw("/jobs/"+id.String()+"/discard", url.Values{"csrf_token": {token}},
		http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "cross-site")
	require.Equal(t, goodjob.JobStateQueued, f.state(id))
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll, ReadOnly: true})
	id := f.enqueue(mailArgs{To: "a"})
	_, body := f.get("/jobs/" + id.String())
	require.NotContains(t, body, "<form method=\"post\"")
	_, body = f.get("/jobs")
	require.NotContains(t, body, "Apply to")
	require.Contains(t, body, "read-only")

	resp := f.postRaw("/jobs/"+id.String()+"/discard", url.Values{}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, goodjob.JobStateQueued, f.state(id))
}

func TestCron(t *testing.T) {
	t.Parallel()
	f := setupWith(t, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"digest/daily": {Cron: "@daily", Args: mailArgs{To: "team"}, Description: "daily <b>digest</b>"},
	}}, dashboard.Config{AuthorizeFunc: allowAll})
	ctx := context.Background()

	code, body := f.get("/cron")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "digest/daily")
	require.Contains(t, body, "daily &lt;b&gt;digest&lt;/b&gt;")
	require.Contains(t, body, "/cron/digest%2Fdaily/enqueue")

	resp := f.post("/cron/digest%2Fdaily/enqueue", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "/admin/jobs/jobs/")
	var cronKey string
	require.NoError(t, f.db.Pool.QueryRow(ctx, "SELECT cron_key FROM good_jobs").Scan(&cronKey))
	require.Equal(t, "digest/daily", cronKey)

	// Each entry links to the jobs it enqueued.
	_, body = f.get("/cron")
	require.Contains(t, body, `href="/admin/jobs/jobs?cron=digest%2Fdaily"`)
	plain := f.enqueue(mailArgs{To: "not cron"})
	code, body = f.get("/jobs?cron=digest%2Fdaily")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "cron entry <code>digest/daily</code>")
	require.Contains(t, body, `<input type="hidden" name="cron" value="digest/daily">`)
	require.Contains(t, body, "Apply to all 1 matching")
	require.NotContains(t, body, plain.String())

	resp = f.post("/cron/digest%2Fdaily/disable", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	entries, err := f.client.CronEntries(ctx)
	require.NoError(t, err)
	require.False(t, entries[0].Enabled)
	_, body = f.get("/cron")
	require.Contains(t, body, ">Enable<")

	resp = f.post("/cron/digest%2Fdaily/enable", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	entries, err = f.client.CronEntries(ctx)
	require.NoError(t, err)
	require.True(t, entries[0].Enabled)

	resp = f.post("/cron/nope/enqueue", url.Values{})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestPages_Batch(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	ctx := t.Context()
	b, err := f.client.NewBatch(ctx, goodjob.BatchParams{Description: xss,
		OnFinish: mailArgs{}})
	require.NoError(t, err)
	rows, err := b.EnqueueMany(ctx, []goodjob.EnqueueParams{
		{Args: mailArgs{To: "a@example.com"}}, {Args: mailArgs{To: "b@example.com"}}})
	require.NoError(t, err)

	code, body := f.get("/jobs/" + rows[0].ID.String())
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<h2>Batch</h2>")
	require.Contains(t, body, b.ID.String())
	require.Contains(t, body, "2 jobs: 2 pending, 0 succeeded, 0 discarded")
	require.Contains(t, body, "finish: MailJob")
	require.NotContains(t, body, "<script>window", "the description is escaped")

	plain := f.enqueue(mailArgs{To: "c@example.com"})
	_, body = f.get("/jobs/" + plain.String())
	require.NotContains(t, body, "<h2>Batch")
}

// xssKindArgs is a kind whose name would run script if it were not escaped.
type xssKindArgs struct{}

func (xssKindArgs) Kind() string { return xss }

func TestPages_OverviewByKind(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	f.enqueue(mailArgs{To: "a"})
	f.enqueue(mailArgs{To: "b"})
	f.enqueue(mailArgs{To: "c"}, goodjob.Wait(time.Hour))
	f.enqueue(xssKindArgs{})

	code, body := f.get("/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<h2>By kind</h2>")
	require.Regexp(t, `<tr data-kind="MailJob">\s*`+
		`<td><a href="/admin/jobs/jobs\?kind=MailJob">MailJob</a></td>\s*`+
		`<td>2</td><td>1</td><td>0</td><td>0</td>`, body, "queued, scheduled, running, retried")
	require.NotContains(t, body, "<script>window.xssRan", "the kind is escaped")
	require.NotContains(t, body, "<img src=x")
	require.Regexp(t, `<td><a href="[^"]*">&lt;script&gt;window.xssRan = true&lt;/script&gt;`+
		`&lt;img src=x onerror=&#34;window.xssRan=true&#34;&gt;</a></td>\s*`+
		`<td>1</td><td>0</td><td>0</td><td>0</td>`, body)
}
