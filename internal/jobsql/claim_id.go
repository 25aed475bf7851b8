package jobsql

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// claimIDSQL is the claim statement narrowed to one job id ($8). Pauses
// ($5, $6) do not apply: the caller asked for this job by name.
var claimIDSQL = fmt.Sprintf(claimSQL, "AND id = $8", "", asyncCommit)

// ClaimID locks the job id for p.ProcessID when it is due, not
// finished, not locked and of one of p.Kinds. It reports false otherwise.
func ClaimID(ctx context.Context, db DBTX, p ClaimParams, id [16]byte) (ClaimedJob, bool, error) {
	var j ClaimedJob
	err := scanClaimed(db.QueryRow(ctx, claimIDSQL, p.Now, p.Kinds, 1, p.ProcessID,
		[]string(nil), []string(nil), p.Gated, id), &j)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, false, nil
	}
	if err != nil {
		return j, false, fmt.Errorf("claim job: %w", err)
	}
	return j, true, nil
}
