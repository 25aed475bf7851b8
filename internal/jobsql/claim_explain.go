package jobsql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ClaimPlan is the planner's plan for the claim statement.
type ClaimPlan struct {
	// Text is EXPLAIN's text output, one line per plan line.
	Text string
	// Scans lists every node that reads good_jobs as "node type [index]",
	// e.g. "Index Scan index_good_jobs_for_candidate_dequeue_unlocked" or
	// "Seq Scan".
	Scans []string
}

// IndexOnly reports whether every read of good_jobs in the plan goes
// through an index, so the claim's cost does not grow with finished rows.
func (p ClaimPlan) IndexOnly() bool {
	for _, s := range p.Scans {
		if !strings.HasPrefix(s, "Index Scan ") && !strings.HasPrefix(s, "Index Only Scan ") {
			return false
		}
	}
	return len(p.Scans) > 0
}

// ExplainClaim returns the plan of the statement Claim runs for p, without
// running it: nothing is locked or changed.
func ExplainClaim(ctx context.Context, db DBTX, p ClaimParams) (ClaimPlan, error) {
	query, args := claimStatement(p)
	var plan ClaimPlan
	rows, err := db.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return plan, fmt.Errorf("explain claim: %w", err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return plan, fmt.Errorf("explain claim: scan: %w", err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		return plan, fmt.Errorf("explain claim: %w", err)
	}
	plan.Text = strings.Join(lines, "\n")

	var doc []struct {
		Plan planNode `json:"Plan"`
	}
	var raw []byte
	if err := db.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
		return plan, fmt.Errorf("explain claim as JSON: %w", err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return plan, fmt.Errorf("explain claim: read JSON plan: %w", err)
	}
	if len(doc) != 1 {
		return plan, fmt.Errorf("explain claim: JSON holds %d plans, want 1", len(doc))
	}
	doc[0].Plan.walk(func(n *planNode) {
		// ModifyTable is the UPDATE itself, which names the table it writes.
		if n.Relation == "good_jobs" && n.NodeType != "ModifyTable" {
			plan.Scans = append(plan.Scans, strings.TrimSpace(n.NodeType+" "+n.Index))
		}
	})
	return plan, nil
}

// planNode is the part of an EXPLAIN (FORMAT JSON) node that ExplainClaim
// reads.
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

func (n *planNode) walk(fn func(*planNode)) {
	fn(n)
	for i := range n.Plans {
		n.Plans[i].walk(fn)
	}
}
