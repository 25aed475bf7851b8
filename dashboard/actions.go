package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/goodjob-go/goodjob"
)

// actionFunc performs one POST and returns where to go next and what to
// tell the operator there.
type actionFunc func(r *http.Request) (redirect, flash string, err error)

// errBadRequest marks an error the operator caused.
var errBadRequest = errors.New("bad request")

// action checks read-only mode and the anti-forgery token, runs f, and
// redirects back with a message (post/redirect/get).
func (h *handler) action(f actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.ReadOnly {
			http.Error(w, "the dashboard is read-only", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil || !csrfValid(r) {
			http.Error(w, "missing or wrong form token; reload the page and try again",
				http.StatusForbidden)
			return
		}
		to, flash, err := f(r)
		switch {
		case errors.Is(err, errBadRequest), errors.Is(err, goodjob.ErrInvalidFilter),
			errors.Is(err, goodjob.ErrInvalidPause):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case errors.Is(err, goodjob.ErrJobNotFound), errors.Is(err, goodjob.ErrBatchNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case errors.Is(err, goodjob.ErrJobRunning), errors.Is(err, goodjob.ErrJobState):
			flash = err.Error()
		case err != nil:
			h.fail(w, r, err)
			return
		}
		sep := "?"
		if u, perr := url.Parse(to); perr == nil && u.RawQuery != "" {
			sep = "&"
		}
		http.Redirect(w, r, h.cfg.BasePath+to+sep+"flash="+url.QueryEscape(flash),
			http.StatusSeeOther)
	}
}

// jobActions are the changes an operator can make to one job.
func (h *handler) jobActions(action string) (func(context.Context, uuid.UUID) error, error) {
	switch action {
	case "retry":
		return h.client.RetryJob, nil
	case "discard":
		return h.client.DiscardJob, nil
	case "reschedule":
		return func(ctx context.Context, id uuid.UUID) error {
			return h.client.RescheduleJob(ctx, id, time.Now())
		}, nil
	case "delete":
		return h.client.DeleteJob, nil
	}
	return nil, fmt.Errorf("%w: unknown action %q", errBadRequest, action)
}

// oneJobAction is jobActions plus the changes offered on a job's page
// only: force-discard, which the page shows for a running job. Bulk
// actions leave running jobs alone, so they do not offer it.
func (h *handler) oneJobAction(action string) (func(context.Context, uuid.UUID) error, error) {
	if action == "force-discard" {
		return h.client.ForceDiscardJob, nil
	}
	return h.jobActions(action)
}

// jobAction runs one action on one job.
func (h *handler) jobAction(r *http.Request) (string, string, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return "", "", fmt.Errorf("%w: job id %q", errBadRequest, r.PathValue("id"))
	}
	action := r.PathValue("action")
	do, err := h.oneJobAction(action)
	if err != nil {
		return "", "", err
	}
	back := "/jobs/" + id.String()
	if action == "delete" {
		back = "/jobs"
	}
	if err := do(r.Context(), id); err != nil {
		return back, "", err
	}
	return back, action + ": done", nil
}

// batchRetry retries every discarded job of a batch and reopens it.
func (h *handler) batchRetry(r *http.Request) (string, string, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return "", "", fmt.Errorf("%w: batch id %q", errBadRequest, r.PathValue("id"))
	}
	back := "/batches/" + id.String()
	n, err := h.client.RetryBatch(r.Context(), id)
	if err != nil {
		return back, "", err
	}
	if n == 0 {
		return back, "retry: the batch has no discarded job to retry", nil
	}
	return back, fmt.Sprintf("retry: %d discarded jobs retried; the batch is open again", n), nil
}

// bulkAction runs an action on the selected jobs, or on every job that
// matches the page's filter when scope is "all".
func (h *handler) bulkAction(r *http.Request) (string, string, error) {
	action := r.PostFormValue("action")
	f, err := filterFrom(r.PostFormValue)
	if err != nil {
		return "", "", err
	}
	f.After = ""
	back := "/jobs" + string(query("state", r.PostFormValue("state"), "queue", f.Queue,
		"kind", f.Kind, "label", f.Label, "q", f.Search, "batch", r.PostFormValue("batch"),
		"cron", f.CronKey))
	if r.PostFormValue("scope") != "all" {
		ids := make([]uuid.UUID, 0, len(r.PostForm["id"]))
		for _, s := range r.PostForm["id"] {
			id, err := uuid.Parse(s)
			if err != nil {
				return "", "", fmt.Errorf("%w: job id %q", errBadRequest, s)
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return back, "no jobs selected", nil
		}
		n, err := h.eachJob(r.Context(), action, ids)
		return back, fmt.Sprintf("%s: %d of %d jobs", action, n, len(ids)), err
	}
	n, err := h.allJobs(r.Context(), action, f)
	return back, fmt.Sprintf("%s: %d jobs", action, n), err
}

func (h *handler) allJobs(ctx context.Context, action string, f goodjob.JobFilter) (int, error) {
	switch action {
	case "retry":
		return h.client.RetryJobs(ctx, f)
	case "discard":
		return h.client.DiscardJobs(ctx, f)
	case "reschedule":
		return h.client.RescheduleJobs(ctx, f, time.Now())
	case "delete":
		return h.client.DeleteJobs(ctx, f)
	}
	return 0, fmt.Errorf("%w: unknown action %q", errBadRequest, action)
}

// eachJob applies an action to each selected job. Jobs whose state does not
// allow it (running, already finished) are skipped, not errors.
func (h *handler) eachJob(ctx context.Context, action string, ids []uuid.UUID) (int, error) {
	do, err := h.jobActions(action)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := do(ctx, id)
		switch {
		case err == nil:
			n++
		case errors.Is(err, goodjob.ErrJobRunning), errors.Is(err, goodjob.ErrJobState),
			errors.Is(err, goodjob.ErrJobNotFound):
		default:
			return n, err
		}
	}
	return n, nil
}

// pauseAction pauses or resumes a queue, a kind or a label.
func (h *handler) pauseAction(r *http.Request) (string, string, error) {
	t := goodjob.PauseTarget{}
	name := r.PostFormValue("name")
	switch r.PostFormValue("what") {
	case "queue":
		t.Queue = name
	case "kind":
		t.Kind = name
	case "label":
		t.Label = name
	default:
		return "", "", fmt.Errorf("%w: pause what %q", errBadRequest, r.PostFormValue("what"))
	}
	var err error
	switch r.PostFormValue("action") {
	case "pause":
		err = h.client.Pause(r.Context(), t)
	case "resume":
		err = h.client.Resume(r.Context(), t)
	default:
		return "", "", fmt.Errorf("%w: action %q", errBadRequest, r.PostFormValue("action"))
	}
	return "/queues", fmt.Sprintf("%s %s %q: done", r.PostFormValue("action"),
		r.PostFormValue("what"), name), err
}

// cronAction enqueues a cron entry now, or enables or disables it.
func (h *handler) cronAction(r *http.Request) (string, string, error) {
	key := r.PathValue("key")
	ctx := r.Context()
	var err error
	switch action := r.PathValue("action"); action {
	case "enqueue":
		var row *goodjob.JobRow
		if row, err = h.client.EnqueueCronNow(ctx, key); err == nil {
			return "/jobs/" + row.ID.String(), fmt.Sprintf("cron %s enqueued", key), nil
		}
	case "enable", "disable":
		err = h.client.SetCronEnabled(ctx, key, action == "enable")
	default:
		return "", "", fmt.Errorf("%w: unknown action %q", errBadRequest, action)
	}
	if errors.Is(err, goodjob.ErrUnknownCronKey) {
		return "", "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return "/cron", fmt.Sprintf("cron %s: %s", key, r.PathValue("action")), err
}
