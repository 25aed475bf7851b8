package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
)

// running marks a job as held by a worker of another process that
// started it, as a hung process would leave it.
func (f *fixture) running(id uuid.UUID) {
	f.t.Helper()
	now := time.Now().UTC()
	tag, err := f.db.Pool.Exec(context.Background(), `UPDATE good_jobs
		SET locked_by_id = $2, locked_at = $3, performed_at = $3 WHERE id = $1`,
		id, uuid.New(), now)
	require.NoError(f.t, err)
	require.EqualValues(f.t, 1, tag.RowsAffected())
	require.Equal(f.t, goodjob.JobStateRunning, f.state(id))
}

const forceDiscardButton = `class="action-force-discard" data-confirm="Force discard`

func TestActions_ForceDiscard(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	queued := f.enqueue(mailArgs{To: "queued"})
	stuck := f.enqueue(mailArgs{To: "stuck"})
	f.running(stuck)

	_, body := f.get("/jobs/" + queued.String())
	require.NotContains(t, body, `class="action-force-discard"`, "offered for running jobs only")
	_, body = f.get("/jobs/" + stuck.String())
	require.Contains(t, body, forceDiscardButton)
	require.Contains(t, body, `action="/admin/jobs/jobs/`+stuck.String()+`/force-discard"`)

	resp := f.post("/jobs/"+stuck.String()+"/discard", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "job+is+running")
	require.Equal(t, goodjob.JobStateRunning, f.state(stuck), "a plain discard is refused")

	resp = f.post("/jobs/"+stuck.String()+"/force-discard", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "force-discard%3A+done")
	j, err := f.client.Job(context.Background(), stuck)
	require.NoError(t, err)
	require.Equal(t, goodjob.JobStateDiscarded, j.State)
	require.Equal(t, goodjob.ForceDiscardedByOperator, j.Error)
	_, body = f.get("/jobs/" + stuck.String())
	require.NotContains(t, body, `class="action-force-discard"`, "no longer running")

	resp = f.post("/jobs/"+stuck.String()+"/force-discard", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "does+not+allow")

	resp = f.post("/jobs/"+uuid.NewString()+"/force-discard", url.Values{})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Bulk actions leave running jobs alone and do not offer it.
	resp = f.post("/jobs", url.Values{"action": {"force-discard"}, "scope": {"selected"},
		"id": {queued.String()}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, goodjob.JobStateQueued, f.state(queued))
}

func TestActions_ForceDiscardForgery(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	id := f.enqueue(mailArgs{To: "a"})
	f.running(id)
	f.get("/") // gets the token cookie

	resp := f.postRaw("/jobs/"+id.String()+"/force-discard", url.Values{}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token")
	require.Equal(t, goodjob.JobStateRunning, f.state(id))
}

func TestReadOnly_ForceDiscard(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll, ReadOnly: true})
	id := f.enqueue(mailArgs{To: "a"})
	f.running(id)
	_, body := f.get("/jobs/" + id.String())
	require.NotContains(t, body, `class="action-force-discard"`)

	resp := f.postRaw("/jobs/"+id.String()+"/force-discard", url.Values{}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, goodjob.JobStateRunning, f.state(id))
}
