package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
	"github.com/goodjob-go/goodjob/goodjobtest"
)

// batchFixture is a dashboard with two batches: mixed, whose three jobs
// succeeded, were discarded and wait, and empty, with none; and one job in
// no batch.
type batchFixture struct {
	*fixture
	mixed, empty *goodjob.Batch
	jobs         []uuid.UUID // mixed's: succeeded, discarded, pending
	plain        uuid.UUID
}

func setupBatches(t *testing.T, cfg dashboard.Config) *batchFixture {
	t.Helper()
	f := &batchFixture{fixture: setup(t, cfg)}
	ctx := t.Context()
	require.NoError(t, goodjob.Register(f.client, goodjob.WorkFunc[mailArgs](
		func(context.Context, *goodjob.Job[mailArgs]) error { return nil })))
	var err error
	f.mixed, err = f.client.NewBatch(ctx, goodjob.BatchParams{Description: xss,
		Properties: map[string]any{"note": "<b>bold</b>"}, OnFinish: mailArgs{}})
	require.NoError(t, err)
	for _, opts := range [][]goodjob.EnqueueOption{nil, nil, {goodjob.Wait(time.Hour)}} {
		row, err := f.mixed.Enqueue(ctx, mailArgs{To: "member@example.com"}, opts...)
		require.NoError(t, err)
		f.jobs = append(f.jobs, row.ID)
	}
	require.NoError(t, f.client.DiscardJob(ctx, f.jobs[1]))
	f.plain = f.enqueue(mailArgs{To: "plain@example.com"}, goodjob.Wait(time.Hour))
	goodjobtest.Drain(ctx, t, f.client)
	require.Equal(t, goodjob.JobStateSucceeded, f.state(f.jobs[0]))

	f.empty, err = f.client.NewBatch(ctx, goodjob.BatchParams{Description: "empty batch"})
	require.NoError(t, err)
	return f
}

func TestPages_Batches(t *testing.T) {
	t.Parallel()
	f := setupBatches(t, dashboard.Config{AuthorizeFunc: allowAll})

	code, body := f.get("/batches")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `href="/admin/jobs/batches" class="active">Batches<`)
	require.Contains(t, body, `href="/admin/jobs/batches/`+f.mixed.ID.String()+`"`)
	require.Contains(t, body, `href="/admin/jobs/batches/`+f.empty.ID.String()+`"`)
	require.Less(t, indexOf(t, body, f.empty.ID.String()), indexOf(t, body, f.mixed.ID.String()),
		"newest first")
	require.Contains(t, body, "&lt;script&gt;", "the description is shown, escaped")
	require.NotContains(t, body, "<script>window")
	require.Contains(t, body, `<td class="pending">1</td><td class="succeeded">1</td>`)
	require.Contains(t, body, `<td class="discarded">1</td>`)
	require.Contains(t, body, `<rect class="succeeded" width="33"`)
	require.Contains(t, body, `<rect class="discarded" x="33" width="33"`)
	require.Contains(t, body, "not sealed")
	require.Contains(t, body, `state-discarded">discarded<`)

	code, body = f.get("/batches?state=discarded")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, f.mixed.ID.String())
	require.NotContains(t, body, f.empty.ID.String())
	require.Contains(t, body, `<option value="discarded" selected>`)

	code, body = f.get("/batches?state=bogus")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "unknown batch state")
	code, body = f.get("/batches?after=bogus")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "was not returned by Batches")
}

func TestPages_BatchPage(t *testing.T) {
	t.Parallel()
	f := setupBatches(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.mixed.ID.String()

	code, body := f.get("/batches/" + id)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "&lt;script&gt;window.xssRan")
	require.NotContains(t, body, "<script>window", "the description is escaped")
	require.NotContains(t, body, "<img src=x")
	require.Contains(t, body, "&lt;b&gt;bold&lt;/b&gt;", "properties are shown, escaped")
	require.NotContains(t, body, "<b>bold")
	require.Contains(t, body, "3 jobs: 1 pending, 1 succeeded, 1 discarded")
	require.Contains(t, body, "<dt>On finish</dt><dd>MailJob</dd>")
	require.NotContains(t, body, `<table class="jobs callbacks">`, "not sealed: no callback")
	require.Contains(t, body, `href="/admin/jobs/jobs?batch=`+id+`"`)
	for _, j := range f.jobs {
		require.Contains(t, body, `href="/admin/jobs/jobs/`+j.String()+`"`)
	}
	require.NotContains(t, body, f.plain.String(), "a job in no batch")

	code, body = f.get("/batches/" + f.empty.ID.String())
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "No jobs in this batch.")

	// A finished batch lists its callback job.
	ctx := t.Context()
	done, err := f.client.NewBatch(ctx, goodjob.BatchParams{OnFinish: mailArgs{}})
	require.NoError(t, err)
	_, err = done.Enqueue(ctx, mailArgs{To: "last@example.com"})
	require.NoError(t, err)
	require.NoError(t, done.Seal(ctx))
	goodjobtest.Drain(ctx, t, f.client)
	var cb string
	require.NoError(t, f.db.Pool.QueryRow(ctx,
		"SELECT id::text FROM good_jobs WHERE batch_callback_id = $1", done.ID).Scan(&cb))
	_, body = f.get("/batches/" + done.ID.String())
	require.Regexp(t, `class="jobs callbacks">(?s:.)*href="/admin/jobs/jobs/`+cb+`"`, body)

	code, _ = f.get("/batches/not-a-batch")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = f.get("/batches/" + uuid.NewString())
	require.Equal(t, http.StatusNotFound, code)

	// The job page links its batch.
	code, body = f.get("/jobs/" + f.jobs[0].String())
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `href="/admin/jobs/batches/`+id+`"`)
}

func TestPages_JobsBatchFilter(t *testing.T) {
	t.Parallel()
	f := setupBatches(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.mixed.ID.String()

	code, body := f.get("/jobs?batch=" + id)
	require.Equal(t, http.StatusOK, code, body)
	for _, j := range f.jobs {
		require.Contains(t, body, `data-id="`+j.String()+`"`)
	}
	require.NotContains(t, body, `data-id="`+f.plain.String()+`"`)
	require.Contains(t, body, `<input type="hidden" name="batch" value="`+id+`">`)
	require.Contains(t, body, "Apply to all 3 matching")

	code, body = f.get("/jobs?batch=" + f.empty.ID.String())
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "No jobs match.")

	code, body = f.get("/jobs?batch=nope")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "&#34;nope&#34; is not a batch id")

	// A bulk change on every match keeps to the batch and returns to it.
	resp := f.post("/jobs", url.Values{"action": {"discard"}, "scope": {"all"},
		"batch": {id}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "batch="+id)
	require.Contains(t, resp.Header.Get("Location"), "1+jobs")
	require.Equal(t, goodjob.JobStateDiscarded, f.state(f.jobs[2]))
	require.Equal(t, goodjob.JobStateScheduled, f.state(f.plain))

	resp = f.post("/jobs", url.Values{"action": {"discard"}, "scope": {"all"},
		"batch": {"nope"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestActions_BatchRetry(t *testing.T) {
	t.Parallel()
	f := setupBatches(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.mixed.ID.String()

	_, body := f.get("/batches/" + id)
	require.Contains(t, body, `action="/admin/jobs/batches/`+id+`/retry"`)
	require.Contains(t, body, "retry 1 discarded")
	_, body = f.get("/batches/" + f.empty.ID.String())
	require.NotContains(t, body, "/retry\"", "nothing to retry in a batch without discards")

	resp := f.post("/batches/"+id+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "/admin/jobs/batches/"+id+"?flash=")
	require.Contains(t, resp.Header.Get("Location"), "1+discarded+jobs+retried")
	require.Equal(t, goodjob.JobStateQueued, f.state(f.jobs[1]))
	require.Equal(t, goodjob.JobStateSucceeded, f.state(f.jobs[0]))
	st, err := f.client.BatchStatus(t.Context(), f.mixed.ID)
	require.NoError(t, err)
	require.Nil(t, st.DiscardedAt, "the batch is reopened")
	require.Zero(t, st.Discarded)

	resp = f.post("/batches/"+id+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "no+discarded+job")

	resp = f.post("/batches/"+uuid.NewString()+"/retry", url.Values{})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp = f.post("/batches/nope/retry", url.Values{})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestReadOnly_Batches(t *testing.T) {
	t.Parallel()
	f := setupBatches(t, dashboard.Config{AuthorizeFunc: allowAll, ReadOnly: true})
	for _, path := range []string{"/batches", "/batches/" + f.mixed.ID.String()} {
		code, body := f.get(path)
		require.Equal(t, http.StatusOK, code, body)
		require.NotContains(t, body, `method="post"`, path)
		require.Contains(t, body, "read-only")
	}
	resp := f.postRaw("/batches/"+f.mixed.ID.String()+"/retry", url.Values{}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, goodjob.JobStateDiscarded, f.state(f.jobs[1]))
}

// indexOf returns where sub first occurs in s, failing the test if it does
// not.
func indexOf(t *testing.T, s, sub string) int {
	t.Helper()
	i := strings.Index(s, sub)
	require.GreaterOrEqual(t, i, 0, "%q not found", sub)
	return i
}
