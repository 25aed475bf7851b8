package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
)

// StatusPollInterval is how often an event stream reads its job's status.
const StatusPollInterval = 500 * time.Millisecond

// ProgressHandler serves the status of single jobs for an application's own
// pages, without the rest of the dashboard:
//
//	GET {BasePath}/jobs/{id}         {status, progress, message, result, error} as JSON
//	GET {BasePath}/jobs/{id}/events  the same as server-sent events, one per change,
//	                                 ending once the job has finished
//
// cfg.AuthorizeFunc guards it as it guards the dashboard; it sees the
// request, so it can check that the signed-in user owns the job.
func ProgressHandler(client *goodjob.Client, cfg Config) http.Handler {
	h := &handler{client: client, cfg: cfg}
	base := strings.TrimRight(cfg.BasePath, "/")
	m := http.NewServeMux()
	m.Handle("GET /jobs/{id}", h.progress())
	m.Handle("GET /jobs/{id}/events", h.progress())
	return http.StripPrefix(base, h.authorize(m))
}

// progress answers with one job's status, once or as a stream.
func (h *handler) progress() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.Error(w, "not a job id", http.StatusNotFound)
			return
		}
		st, err := h.client.Status(r.Context(), id)
		if errors.Is(err, goodjob.ErrJobNotFound) {
			http.Error(w, "no such job", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "could not read the job", http.StatusInternalServerError)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/events") {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		h.stream(w, r, st)
	})
}

// stream sends the status whenever it changes until the job finishes or
// the client goes away.
func (h *handler) stream(w http.ResponseWriter, r *http.Request, st *goodjob.JobStatus) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(StatusPollInterval)
	defer tick.Stop()
	var last []byte
	for {
		b, _ := json.Marshal(st)
		if !bytes.Equal(b, last) {
			if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last = b
		}
		if st.Status == goodjob.JobStateSucceeded || st.Status == goodjob.JobStateDiscarded {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		next, err := h.client.Status(r.Context(), st.ID)
		if err != nil {
			return
		}
		st = next
	}
}
