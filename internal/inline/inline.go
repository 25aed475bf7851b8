// Package inline connects package goodjobtest to the unexported machinery
// of package goodjob, which sets WorkNext from its init, without adding an
// exported method to Client that only tests should call.
package inline

import (
	"context"

	"github.com/google/uuid"
)

// WorkNext claims one due job of client (a *goodjob.Client) and works it on
// the calling goroutine, writing its outcome as a pool would. With id set it
// claims that job only; otherwise the next job in claim order among the
// kinds client has workers for. It reports the job's id, and false when
// there was no job to claim.
var WorkNext func(ctx context.Context, client any, id *uuid.UUID) (uuid.UUID, bool, error)

// WorkScheduled moves the earliest job of client's worker kinds that is
// scheduled in the future to now, then claims and works it as WorkNext
// does with its id. It reports false when no such job waits.
var WorkScheduled func(ctx context.Context, client any) (uuid.UUID, bool, error)
