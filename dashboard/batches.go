package dashboard

import (
	"errors"
	"net/http"

	"github.com/goodjob-go/goodjob"
)

// batchJobsShown is how many of its jobs the batch page lists; the rest
// are a link away, on the jobs page filtered by the batch.
const batchJobsShown = 50

// batchStates are the choices of the batches page's state filter.
var batchStates = []goodjob.BatchState{
	goodjob.BatchStateOpen, goodjob.BatchStateFinished, goodjob.BatchStateDiscarded,
}

type batchesData struct {
	Filter goodjob.BatchFilter
	States []goodjob.BatchState
	Page   *goodjob.BatchPage
	Error  string
}

func (h *handler) batches(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := goodjob.BatchFilter{State: goodjob.BatchState(q.Get("state")), After: q.Get("after")}
	d := batchesData{Filter: f, States: batchStates}
	var err error
	d.Page, err = h.client.Batches(r.Context(), f)
	if errors.Is(err, goodjob.ErrInvalidFilter) {
		w.WriteHeader(http.StatusBadRequest)
		d.Error = err.Error()
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "batches", "Batches", d)
}

// batchData is the batch page: the batch, the first of its jobs and its
// callback jobs.
type batchData struct {
	*goodjob.BatchStatus
	Listed    *goodjob.JobPage
	Callbacks *goodjob.JobPage
}

func (h *handler) batch(w http.ResponseWriter, r *http.Request) {
	id, b, ok := lookup(h, w, r, "batch", goodjob.ErrBatchNotFound, h.client.BatchStatus)
	if !ok {
		return
	}
	d := batchData{BatchStatus: b}
	var err error
	d.Listed, err = h.client.Jobs(r.Context(),
		goodjob.JobFilter{BatchID: id, Limit: batchJobsShown})
	if err == nil {
		d.Callbacks, err = h.client.Jobs(r.Context(),
			goodjob.JobFilter{CallbacksOf: id, Limit: batchJobsShown})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	title := "Batch"
	if b.Description != "" {
		title += " " + b.Description
	}
	h.render(w, r, "batch", title, d)
}
