package goodjob

import (
	"context"
	"fmt"
	"time"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// discardedWindows are the windows of [Client.DiscardedSummary], GoodJob's
// cleaner page's: 1h, 3h, 24h, 3d and 7d.
var discardedWindows = []time.Duration{
	time.Hour, 3 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// DiscardedGroup counts the discarded jobs of one error class or one kind.
type DiscardedGroup struct {
	// Name is the error class or the kind.
	Name string
	// Counts holds one count per window of DiscardedSummary.Windows.
	Counts []int64
}

// DiscardedSummary is what [Client.DiscardedSummary] returns.
type DiscardedSummary struct {
	// Now is the time the windows end.
	Now time.Time
	// Windows are the lengths of the windows counted, shortest first.
	Windows []time.Duration
	// ByErrorClass groups the jobs by the error's class: the text before
	// the first ": " of the error, as GoodJob stores "Class: message" (the
	// whole error when it has no ": ").
	ByErrorClass []DiscardedGroup
	// ByKind groups the jobs by kind (job_class).
	ByKind []DiscardedGroup
}

// DiscardedSummary counts the jobs discarded (finished with an error) in
// the last hour, 3 hours, day, 3 days and week, by error class and by kind,
// as GoodJob's cleaner page does. Each group lists the most discarded
// first, counted over the week, then by name. It reads only the week's
// discarded jobs, through the index on them.
func (c *Client) DiscardedSummary(ctx context.Context) (*DiscardedSummary, error) {
	now := c.now()
	since := make([]time.Time, len(discardedWindows))
	for i, w := range discardedWindows {
		since[i] = now.Add(-w).UTC()
	}
	rows, err := jobsql.DiscardedCounts(ctx, c.db, since)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	s := &DiscardedSummary{Now: now, Windows: append([]time.Duration(nil), discardedWindows...)}
	for _, r := range rows {
		switch r.Grouping {
		case jobsql.GroupedByFirst:
			s.ByErrorClass = append(s.ByErrorClass, DiscardedGroup{Name: r.ErrorClass,
				Counts: r.Counts})
		case jobsql.GroupedBySecond:
			s.ByKind = append(s.ByKind, DiscardedGroup{Name: r.Kind, Counts: r.Counts})
		}
	}
	return s, nil
}
