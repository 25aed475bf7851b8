// Package dashboard is goodjob's web UI: an http.Handler that shows the
// queue's jobs, batches, cron entries, processes and pauses, and operates
// on them.
//
// It renders pages on the server with html/template and serves its few
// assets from the binary, so it works offline and needs no front-end build.
// Mount it under any path of any mux, behind the application's own login:
//
//	mux.Handle("/admin/jobs/", dashboard.New(client, dashboard.Config{
//		BasePath:      "/admin/jobs",
//		AuthorizeFunc: requireAdmin, // the app's check; see BasicAuth
//	}))
//
// Every request passes AuthorizeFunc first; without one, every request is
// refused. Actions are POST requests protected against cross-site request
// forgery; ReadOnly hides and refuses them.
//
// Two report pages only read: Performance sums up recent attempts by kind
// and by queue, and Cleaner counts discarded jobs by error class and kind.
package dashboard

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/goodjob-go/goodjob"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// RefreshIntervalDefault is how often pages refresh their content.
const RefreshIntervalDefault = 5 * time.Second

// Config configures the dashboard. The zero value serves at the root of its
// mux and refuses every request until AuthorizeFunc is set.
type Config struct {
	// BasePath is the path the handler is mounted under, such as
	// "/admin/jobs"; links and forms are built on it. Default "".
	BasePath string

	// AuthorizeFunc decides whether a request may see the dashboard. It
	// returns true to let the request through; when it returns false it must
	// have written the response itself (a redirect to a login page, a 401).
	// Nil refuses every request with 403, so the dashboard is never open by
	// accident.
	AuthorizeFunc func(w http.ResponseWriter, r *http.Request) bool

	// ReadOnly hides every action and refuses every POST.
	ReadOnly bool

	// RefreshInterval is how often open pages fetch fresh content.
	// Default RefreshIntervalDefault; negative turns live refresh off.
	RefreshInterval time.Duration

	// Logger receives errors the dashboard could not show. Default: the
	// default slog logger.
	Logger *slog.Logger
}

// handler serves the dashboard.
type handler struct {
	client *goodjob.Client
	cfg    Config
	pages  map[string]*template.Template
	mux    *http.ServeMux
	logger *slog.Logger
}

// New returns the dashboard for client.
func New(client *goodjob.Client, cfg Config) http.Handler {
	cfg.BasePath = strings.TrimRight(cfg.BasePath, "/")
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = RefreshIntervalDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handler{
		client: client, cfg: cfg, pages: parsePages(),
		logger: cfg.Logger.With(slog.String("component", "dashboard")),
	}
	h.routes()
	protect := http.NewCrossOriginProtection()
	return http.StripPrefix(cfg.BasePath, h.authorize(protect.Handler(h.mux)))
}

func (h *handler) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", h.overview)
	m.HandleFunc("GET /jobs", h.jobs)
	m.HandleFunc("GET /jobs/{id}", h.job)
	m.HandleFunc("GET /batches", h.batches)
	m.HandleFunc("GET /batches/{id}", h.batch)
	m.HandleFunc("GET /cron", h.cron)
	m.HandleFunc("GET /processes", h.processes)
	m.HandleFunc("GET /queues", h.queues)
	m.HandleFunc("GET /performance", h.performance)
	m.HandleFunc("GET /cleaner", h.cleaner)
	m.Handle("GET /api/jobs/{id}", h.progress())
	m.Handle("GET /api/jobs/{id}/events", h.progress())
	m.HandleFunc("POST /jobs/{id}/{action}", h.action(h.jobAction))
	m.HandleFunc("POST /jobs", h.action(h.bulkAction))
	m.HandleFunc("POST /batches/{id}/retry", h.action(h.batchRetry))
	m.HandleFunc("POST /pauses", h.action(h.pauseAction))
	m.HandleFunc("POST /cron/{key}/{action}", h.action(h.cronAction))
	h.mux = m
}

// authorize runs AuthorizeFunc before anything else.
func (h *handler) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.AuthorizeFunc == nil {
			http.Error(w, "dashboard: no AuthorizeFunc is configured, so every request "+
				"is refused", http.StatusForbidden)
			return
		}
		if !h.cfg.AuthorizeFunc(w, r) {
			return
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
		next.ServeHTTP(w, r)
	})
}

func parsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template)
	for _, name := range []string{
		"overview", "jobs", "job", "batches", "batch", "cron", "processes", "queues",
		"performance", "cleaner",
	} {
		t := template.New("layout.html").Funcs(funcs)
		pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html",
			"templates/"+name+".html"))
	}
	return pages
}
