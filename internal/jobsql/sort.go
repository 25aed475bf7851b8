package jobsql

import (
	"bytes"
	"slices"
)

// sortClaimed restores claim order, which UPDATE ... RETURNING does not keep.
func sortClaimed(jobs []ClaimedJob, p ClaimParams) {
	var rank map[string]int
	if p.Ordered {
		rank = make(map[string]int, len(p.Queues))
		for i, q := range p.Queues {
			if _, ok := rank[q]; !ok {
				rank[q] = i
			}
		}
	}
	slices.SortFunc(jobs, func(a, b ClaimedJob) int {
		if rank != nil && rank[a.Queue] != rank[b.Queue] {
			return rank[a.Queue] - rank[b.Queue]
		}
		if c := comparePriority(a.Priority, b.Priority); c != 0 {
			return c
		}
		if c := a.ScheduledAt.Compare(b.ScheduledAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
}

// comparePriority orders smaller numbers first and NULL last.
func comparePriority(a, b *int32) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}
