package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
)

// countLimit bounds the "all N matching" count on the jobs page, and
// countTimeout the time spent on it: a rare match (a search over args) has
// to read the whole table to be counted, and the page must not wait for it.
const (
	countLimit   = 100_000
	countTimeout = 100 * time.Millisecond
)

type overviewData struct {
	Stats    *goodjob.Stats
	Minutes  []goodjob.MinuteCount
	MaxCount int64
	Paused   goodjob.Paused
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := h.client.Overview(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	minutes, err := h.client.FinishedPerMinute(ctx, time.Hour)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	paused, err := h.client.Pauses(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := overviewData{Stats: st, Minutes: minutes, Paused: paused}
	for _, m := range minutes {
		d.MaxCount = max(d.MaxCount, m.Succeeded+m.Discarded)
	}
	h.render(w, r, "overview", "Overview", d)
}

type jobsData struct {
	Filter  goodjob.JobFilter
	State   string
	Batch   string // the batch parameter as given
	Page    *goodjob.JobPage
	Count   int64
	CountAt int64 // countLimit: Count may be more
	Error   string
}

// filterFrom reads a job filter from a query string or a form.
func filterFrom(get func(string) string) (goodjob.JobFilter, error) {
	f := goodjob.JobFilter{
		Queue: get("queue"), Kind: get("kind"), Label: get("label"), Search: get("q"),
		CronKey: get("cron"), After: get("after"),
	}
	if s := get("batch"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return f, fmt.Errorf("%w: batch %q is not a batch id", errBadRequest, s)
		}
		f.BatchID = id
	}
	if s := get("state"); s != "" {
		state, err := goodjob.ParseJobState(s)
		if err != nil {
			return f, err
		}
		f.States = []goodjob.JobState{state}
	}
	return f, nil
}

func (h *handler) jobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := filterFrom(q.Get)
	d := jobsData{Filter: f, State: q.Get("state"), Batch: q.Get("batch"), CountAt: countLimit}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		d.Error = err.Error()
		h.render(w, r, "jobs", "Jobs", d)
		return
	}
	if d.Page, err = h.client.Jobs(r.Context(), f); err == nil {
		d.Count, err = h.countJobs(r, f)
	}
	if errors.Is(err, goodjob.ErrInvalidFilter) {
		w.WriteHeader(http.StatusBadRequest)
		d.Error = err.Error()
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "jobs", "Jobs", d)
}

// countJobs counts the filter's jobs, or returns -1 when that takes longer
// than countTimeout.
func (h *handler) countJobs(r *http.Request, f goodjob.JobFilter) (int64, error) {
	ctx, cancel := context.WithTimeout(r.Context(), countTimeout)
	defer cancel()
	n, err := h.client.CountJobs(ctx, f, countLimit)
	if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
		return -1, nil
	}
	return n, err
}

// lookup reads the {id} of a page's path and fetches what it names with
// get. For a malformed id, or one get reports as notFound, it answers 404
// saying there is no such what; for any other error, 500. It reports
// whether the page may go on with the record.
func lookup[T any](h *handler, w http.ResponseWriter, r *http.Request, what string,
	notFound error, get func(context.Context, uuid.UUID) (T, error)) (uuid.UUID, T, bool) {
	var zero T
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "not a "+what+" id", http.StatusNotFound)
		return id, zero, false
	}
	rec, err := get(r.Context(), id)
	if errors.Is(err, notFound) {
		http.Error(w, "no such "+what, http.StatusNotFound)
		return id, zero, false
	}
	if err != nil {
		h.fail(w, r, err)
		return id, zero, false
	}
	return id, rec, true
}

func (h *handler) job(w http.ResponseWriter, r *http.Request) {
	_, job, ok := lookup(h, w, r, "job", goodjob.ErrJobNotFound, h.client.Job)
	if !ok {
		return
	}
	d := jobData{JobRecord: job}
	var err error
	if d.Batch, err = h.batchOf(r, job); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "job", "Job "+job.Kind, d)
}

// jobData is the job page: the job and the batch it is in or calls back.
type jobData struct {
	*goodjob.JobRecord
	Batch *goodjob.BatchStatus
}

// batchOf returns the batch of job, or nil when it has none or the batch
// was cleaned up.
func (h *handler) batchOf(r *http.Request, job *goodjob.JobRecord) (*goodjob.BatchStatus,
	error) {
	id := job.BatchID
	if id == uuid.Nil {
		id = job.BatchCallbackID
	}
	if id == uuid.Nil {
		return nil, nil
	}
	s, err := h.client.BatchStatus(r.Context(), id)
	if errors.Is(err, goodjob.ErrBatchNotFound) {
		return nil, nil
	}
	return s, err
}

func (h *handler) processes(w http.ResponseWriter, r *http.Request) {
	ps, err := h.client.Processes(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "processes", "Processes", ps)
}

type queuesData struct {
	Stats  *goodjob.Stats
	Paused goodjob.Paused
}

func (h *handler) queues(w http.ResponseWriter, r *http.Request) {
	st, err := h.client.Overview(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	paused, err := h.client.Pauses(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "queues", "Queues and pauses", queuesData{Stats: st, Paused: paused})
}

func (h *handler) cron(w http.ResponseWriter, r *http.Request) {
	entries, err := h.client.CronEntries(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "cron", "Cron", entries)
}
