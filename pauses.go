package goodjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// PauseTarget names what to pause or resume: exactly one of a queue, a kind
// or a label.
type PauseTarget struct {
	Queue string
	Kind  string
	Label string
}

// Paused lists what is paused. Workers of every process leave out jobs of
// a paused queue or kind, and jobs carrying a paused label, within one
// PollInterval of the change; jobs already running are not affected.
type Paused struct {
	Queues []string
	Kinds  []string
	Labels []string
}

// ErrInvalidPause is returned for a PauseTarget that does not name exactly
// one queue, kind or label.
var ErrInvalidPause = errors.New("goodjob: a pause names exactly one queue, kind or label")

// Pause stops workers from starting jobs of t's queue, kind or label. The
// pause is stored in good_job_settings under "pauses", as GoodJob stores it,
// so GoodJob's dashboard shows it too.
func (c *Client) Pause(ctx context.Context, t PauseTarget) error {
	return c.setPause(ctx, t, true)
}

// Resume undoes Pause.
func (c *Client) Resume(ctx context.Context, t PauseTarget) error {
	return c.setPause(ctx, t, false)
}

// Pauses returns what is paused now.
func (c *Client) Pauses(ctx context.Context) (Paused, error) {
	p, err := jobsql.LoadPauses(ctx, c.db)
	if err != nil {
		return Paused{}, fmt.Errorf("goodjob: %w", err)
	}
	return Paused{Queues: p.Queues, Kinds: p.JobClasses, Labels: p.Labels}, nil
}

func (c *Client) setPause(ctx context.Context, t PauseTarget, paused bool) error {
	field, name, err := t.field()
	if err != nil {
		return err
	}
	if err := jobsql.SetPause(ctx, c.db, c.now().UTC(), field, name, paused); err != nil {
		return fmt.Errorf("goodjob: %w", err)
	}
	c.mu.RLock()
	rs := c.run
	c.mu.RUnlock()
	if rs != nil {
		c.refreshPauses(ctx, rs)
		if !paused {
			c.wakePools(rs, "", time.Time{}, true)
		}
	}
	return nil
}

func (t PauseTarget) field() (field, name string, err error) {
	set := 0
	for _, s := range []string{t.Queue, t.Kind, t.Label} {
		if s != "" {
			set++
		}
	}
	switch {
	case set != 1:
		return "", "", fmt.Errorf("%w: got %+v", ErrInvalidPause, t)
	case t.Queue != "":
		return jobsql.PauseQueues, t.Queue, nil
	case t.Kind != "":
		return jobsql.PauseJobClasses, t.Kind, nil
	default:
		return jobsql.PauseLabels, t.Label, nil
	}
}

// refreshPauses reloads the pauses setting for the pools and reports
// whether it changed. On an error the pools keep the pauses they had.
func (c *Client) refreshPauses(ctx context.Context, rs *runState) bool {
	p, err := jobsql.LoadPauses(ctx, c.db)
	if err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("load pauses", slog.Any(keyError, err))
		}
		return false
	}
	old := rs.pauses.Swap(&p)
	return old == nil || !reflect.DeepEqual(*old, p)
}

// claimable returns the kinds a pool may claim now, leaving out paused ones.
func (rs *runState) claimable() (kinds []string, p *jobsql.Pauses) {
	p = rs.pauses.Load()
	if p == nil || len(p.JobClasses) == 0 {
		return rs.kinds, p
	}
	kinds = make([]string, 0, len(rs.kinds))
	for _, k := range rs.kinds {
		if !slices.Contains(p.JobClasses, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, p
}
