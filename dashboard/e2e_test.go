//go:build e2e

package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/dashboard"
)

// browser starts a headless Chromium for the test. CHROMIUM names the
// binary; by default it is looked up as chromium, then chromium-browser.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	require.NotEmpty(t, path, "no Chromium found: install Debian's chromium package "+
		"(apt-get install chromium) or set CHROMIUM to the browser's path")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}

// screenshot saves the page when GOODJOB_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GOODJOB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func TestBrowser(t *testing.T) {
	f := setupWith(t, goodjob.Config{Cron: map[string]goodjob.CronEntry{
		"nightly-digest": {Cron: "0 3 * * *", Args: mailArgs{To: "team"},
			Description: "Mail the nightly digest"},
	}}, dashboard.Config{AuthorizeFunc: allowAll})
	bg := context.Background()
	xssJob := f.enqueue(mailArgs{To: xss}, goodjob.Queue("mailers"), goodjob.Labels("welcome"))
	for i := range 5 {
		f.enqueue(mailArgs{To: strings.Repeat("x", i+1) + "@example.com"},
			goodjob.Priority(i))
	}
	failed := f.enqueue(mailArgs{To: "bounced@example.com"}, goodjob.Queue("mailers"))
	require.NoError(t, f.client.DiscardJob(bg, failed))

	ctx := browser(t)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return strings.TrimSpace(s)
	}
	xssRan := func() bool {
		t.Helper()
		ran, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.xssRan === true`))
		require.NoError(t, err)
		return ran
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// Overview.
	do(chromedp.Navigate(f.url("/")), chromedp.WaitVisible(css(`.cards`)))
	require.Equal(t, "6", text(`[data-state="queued"]`))
	screenshot(t, ctx, "overview")

	// Filter jobs by queue.
	do(chromedp.Navigate(f.url("/jobs")),
		chromedp.WaitVisible(css(`form.filters`)),
		chromedp.SendKeys(css(`input[name=queue]`), "mailers"),
		chromedp.Submit(css(`input[name=queue]`)),
		// The attribute is set only on the page that the filter rendered.
		chromedp.WaitVisible(css(`input[name=queue][value="mailers"]`)),
		chromedp.WaitVisible(css(`tr.job[data-id="`+xssJob.String()+`"]`)))
	listed := text(`table.jobs tbody`)
	require.NotContains(t, listed, "xxx@example.com", "other queues filtered out")
	require.Contains(t, listed, "<script>", "the payload shows as text")
	require.False(t, xssRan(), "the payload did not run")
	screenshot(t, ctx, "jobs")

	// Open the discarded job and retry it.
	do(chromedp.Click(css(`tr.job[data-id="`+failed.String()+`"] a`)),
		chromedp.WaitVisible(css(`button.action-retry`)))
	require.Equal(t, "discarded", text(`h1 .state`))
	screenshot(t, ctx, "job")
	do(chromedp.Click(css(`button.action-retry`)), chromedp.WaitVisible(css(`.flash`)))
	require.Equal(t, "queued", text(`h1 .state`))
	require.Equal(t, goodjob.JobStateQueued, f.state(failed))

	// The job page of the payload does not run it either.
	do(chromedp.Navigate(f.url("/jobs/"+xssJob.String())), chromedp.WaitVisible(css(`pre.json`)))
	require.False(t, xssRan())

	// Pause a queue.
	do(chromedp.Navigate(f.url("/queues")),
		chromedp.WaitVisible(css(`table.queues`)),
		chromedp.SetValue(css(`form.pause-new select[name=what]`), "queue"),
		chromedp.SendKeys(css(`form.pause-new input[name=name]`), "mailers"),
		chromedp.Click(css(`form.pause-new button`)),
		chromedp.WaitVisible(css(`.flash`)))
	require.Contains(t, text(`table.pauses`), "mailers")
	paused, err := f.client.Pauses(bg)
	require.NoError(t, err)
	require.Equal(t, []string{"mailers"}, paused.Queues)
	screenshot(t, ctx, "queues")

	// Open a batch from the list and retry its discarded job.
	batch, err := f.client.NewBatch(bg, goodjob.BatchParams{Description: "Import <b>customers</b>"})
	require.NoError(t, err)
	var members []goodjob.EnqueueParams
	for i := range 3 {
		members = append(members, goodjob.EnqueueParams{
			Args: mailArgs{To: strings.Repeat("m", i+1) + "@example.com"}})
	}
	rows, err := batch.EnqueueMany(bg, members)
	require.NoError(t, err)
	require.NoError(t, f.client.DiscardJob(bg, rows[0].ID))
	link := `a[href$="/batches/` + batch.ID.String() + `"]`
	do(chromedp.Navigate(f.url("/batches")), chromedp.WaitVisible(css(link)))
	require.Contains(t, text(`table`), "Import <b>customers</b>", "the description shows as text")
	screenshot(t, ctx, "batches")
	do(chromedp.Click(css(link)), chromedp.WaitVisible(css(`button.action-retry`)))
	require.Contains(t, text(`dd.batch-jobs`), "1 discarded")
	screenshot(t, ctx, "batch")
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`))
	require.NoError(t, err)
	do(chromedp.Click(css(`button.action-retry`)), chromedp.WaitVisible(css(`.flash`)))
	require.Contains(t, text(`.flash`), "1 discarded jobs retried")
	require.Contains(t, text(`dd.batch-jobs`), "0 discarded")
	require.Equal(t, goodjob.JobStateQueued, f.state(rows[0].ID))

	// Disable a cron entry.
	row := `tr.cron-entry[data-key="nightly-digest"]`
	do(chromedp.Navigate(f.url("/cron")), chromedp.WaitVisible(css(row)))
	require.Equal(t, "yes", text(row+` td.enabled`))
	screenshot(t, ctx, "cron")
	do(chromedp.Click(css(row+` button.cron-toggle`)), chromedp.WaitVisible(css(`.flash`)))
	require.Equal(t, "no", text(row+` td.enabled`))
	entries, err := f.client.CronEntries(bg)
	require.NoError(t, err)
	require.False(t, entries[0].Enabled)

	// The reports show payloads in kinds and errors as text.
	f.insertExecution(xss, "mailers", 2*24*time.Hour, 1500*time.Millisecond, "")
	f.insertDiscarded("MailJob", xss+": boom", time.Hour/2)
	do(chromedp.Navigate(f.url("/performance")), chromedp.WaitVisible(css(`table.performance`)))
	require.Contains(t, text(`table.performance tbody`), "No finished attempts", "24h")
	do(chromedp.Click(css(`nav.windows a[href$="window=7d"]`)),
		chromedp.WaitVisible(css(`nav.windows a.active[href$="window=7d"]`)))
	require.Contains(t, text(`table.performance tbody`), "<script>")
	require.False(t, xssRan())
	screenshot(t, ctx, "performance")

	do(chromedp.Navigate(f.url("/cleaner")), chromedp.WaitVisible(css(`table.cleaner`)))
	require.Contains(t, text(`table.cleaner tbody`), "<script>")
	require.False(t, xssRan())
	screenshot(t, ctx, "cleaner")
	do(chromedp.Click(css(`table.cleaner tbody a`)),
		chromedp.WaitVisible(css(`input[name=q]`)))
	require.Contains(t, text(`table.jobs tbody`), "<script>", "the job of the class")
	require.False(t, xssRan())

	// Force discard a job whose process hangs; the button asks first.
	stuck := f.enqueue(mailArgs{To: "stuck@example.com"})
	f.running(stuck)
	do(chromedp.Navigate(f.url("/jobs/"+stuck.String())),
		chromedp.WaitVisible(css(`button.action-force-discard`)))
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
		`window.confirm = m => { sessionStorage.asked = m; return true }; true`))
	require.NoError(t, err)
	do(chromedp.Click(css(`button.action-force-discard`)), chromedp.WaitVisible(css(`.flash`)))
	asked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.asked || ""`))
	require.NoError(t, err)
	require.Contains(t, asked, "Force discard this running job?")
	require.Equal(t, "discarded", text(`h1 .state`))
	require.Equal(t, goodjob.JobStateDiscarded, f.state(stuck))
}
