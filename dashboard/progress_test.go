package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
)

func TestProgressHandler(t *testing.T) {
	t.Parallel()
	f := setup(t, dashboard.Config{AuthorizeFunc: allowAll})
	ctx := context.Background()
	id := f.enqueue(mailArgs{To: "a"})
	_, err := f.db.Pool.Exec(ctx, `UPDATE good_jobs SET serialized_params = serialized_params
		|| '{"goodjob_progress": {"percent": 40, "message": "4 of 10"},
		     "goodjob_result": {"rows": 4}}' WHERE id = $1`, id)
	require.NoError(t, err)

	// Mounted alone, for an application's own pages.
	mux := http.NewServeMux()
	mux.Handle("/status/", dashboard.ProgressHandler(f.client, dashboard.Config{
		BasePath: "/status", AuthorizeFunc: allowAll,
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/status/jobs/" + id.String())
	require.NoError(t, err)
	var st goodjob.JobStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	require.Equal(t, goodjob.JobStateQueued, st.Status)
	require.Equal(t, 40.0, *st.Progress)
	require.Equal(t, "4 of 10", st.Message)
	require.JSONEq(t, `{"rows": 4}`, string(st.Result))

	resp, err = http.Get(srv.URL + "/status/jobs/not-an-id")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The stream ends once the job has finished, after its last status.
	require.NoError(t, f.client.DiscardJob(ctx, id))
	resp, err = http.Get(f.url("/api/jobs/" + id.String() + "/events"))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, data)
		}
	}
	require.Len(t, events, 1)
	require.Contains(t, events[0], `"status":"discarded"`)
	require.Contains(t, events[0], goodjob.DiscardedByOperator)
}
