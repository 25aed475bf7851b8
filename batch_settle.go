package goodjob

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// splitBatched separates the completions that finish a batch's job or
// callback from the rest, which keep the single-statement path.
func splitBatched(cs []jobsql.Completion) (plain, batched []jobsql.Completion) {
	for i := range cs {
		if cs[i].Batched() {
			batched = append(batched, cs[i])
		} else {
			plain = append(plain, cs[i])
		}
	}
	if len(batched) == 0 {
		return cs, nil
	}
	return plain, batched
}

// completeBatched writes completions of batch jobs and settles their
// batches in one transaction, so a job never ends without its batch
// hearing of it. It returns how many completions it wrote.
func (c *Client) completeBatched(ctx context.Context, cs []jobsql.Completion) (int, error) {
	ids := make([]uuid.UUID, 0, len(cs))
	for _, comp := range cs {
		if comp.BatchID != nil {
			ids = append(ids, *comp.BatchID)
		} else {
			ids = append(ids, *comp.BatchCallbackID)
		}
	}
	var n int
	var callbacks []*JobRow
	err := pgx.BeginTxFunc(ctx, c.db, pgx.TxOptions{IsoLevel: pgx.ReadCommitted},
		func(tx pgx.Tx) error {
			var err error
			if n, err = jobsql.Complete(ctx, tx, c.processID, c.now().UTC(), cs); err != nil {
				return err
			}
			callbacks, err = c.settleBatches(ctx, tx, ids)
			return err
		})
	if err != nil {
		return 0, err
	}
	c.wakeRows(callbacks, nil, false)
	return n, nil
}

// settleBatches records, under the batches' row locks, the events of the
// batches ids, enqueues their callbacks and marks the batches that are
// done. Each event is recorded once (see jobsql.SettleBatches), and its
// callback is inserted in the same transaction: that is the exactly-once
// guarantee, however many processes finish a batch's last jobs at once.
func (c *Client) settleBatches(ctx context.Context, tx jobsql.DBTX,
	ids []uuid.UUID) ([]*JobRow, error) {
	ids, err := lockBatches(ctx, tx, ids, "settling")
	if err != nil {
		return nil, err
	}
	now := c.now().UTC()
	events, err := jobsql.SettleBatches(ctx, tx, ids, now)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	var ps []jobsql.InsertParams
	var rows []*JobRow
	for _, e := range events {
		p, r := c.callbacks(e, now)
		ps, rows = append(ps, p...), append(rows, r...)
	}
	if err := jobsql.InsertMany(ctx, tx, ps); err != nil {
		return nil, fmt.Errorf("goodjob: enqueue batch callbacks: %w", err)
	}
	if err := jobsql.FinishBatches(ctx, tx, ids, now); err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	return rows, nil
}

// lockBatches locks the batches ids for the rest of tx and returns them
// sorted. Whatever writes a batch's settled marks (discarded_at,
// jobs_finished_at, finished_at) takes these locks after changing the jobs
// and before reading them: jobs first, then batches in id order, so that
// no two such transactions deadlock or decide from a stale count. The
// transaction must be READ COMMITTED, so that each statement after the
// lock sees what the previous holder committed; what names the caller's
// work in the refusal.
func lockBatches(ctx context.Context, tx jobsql.DBTX, ids []uuid.UUID,
	what string) ([]uuid.UUID, error) {
	ids = jobsql.SortedBatchIDs(ids)
	isolation, err := jobsql.LockBatches(ctx, tx, ids)
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	if isolation != "read committed" {
		return nil, fmt.Errorf("%w: %s a batch needs a READ COMMITTED transaction, not %s",
			ErrInvalidArgs, what, isolation)
	}
	return ids, nil
}

// callbacks builds the callback jobs of one batch's new events.
func (c *Client) callbacks(e jobsql.BatchEvents, now time.Time) ([]jobsql.InsertParams,
	[]*JobRow) {
	logger := c.logger.With(slog.String(keyBatchID, e.ID.String()))
	props, err := decodeProperties(e.Properties)
	if err != nil {
		logger.Warn("batch properties are not a JSON object; callbacks get none",
			slog.Any(keyError, err))
	}
	type due struct {
		event BatchEvent
		kind  string
	}
	var dues []due
	if e.Discard && e.OnDiscard != "" {
		dues = append(dues, due{BatchDiscard, e.OnDiscard})
	}
	if e.Finish && e.OnFinish != "" {
		dues = append(dues, due{BatchFinish, e.OnFinish})
	}
	if e.Finish && !e.AnyDiscarded && e.OnSuccess != "" {
		dues = append(dues, due{BatchSuccess, e.OnSuccess})
	}
	var opts []EnqueueOption
	if e.CallbackQueue != "" {
		opts = append(opts, Queue(e.CallbackQueue))
	}
	if e.CallbackPriority != nil {
		opts = append(opts, Priority(int(*e.CallbackPriority)))
	}
	var ps []jobsql.InsertParams
	var rows []*JobRow
	for _, d := range dues {
		args := callbackArgs{kind: d.kind, BatchCallback: BatchCallback{
			BatchID: e.ID, Event: d.event, Description: e.Description, Properties: props,
		}}
		p, row, err := c.prepareAt(args, opts, now)
		if err != nil {
			// Only a row written elsewhere (a bad queue name) or the kind's
			// own DefaultOptions can fail here. Retrying would block every
			// completion of the batch for good, so the callback is skipped.
			logger.Error("batch callback not enqueued", slog.String(keyKind, d.kind),
				slog.String("event", string(d.event)), slog.Any(keyError, err))
			continue
		}
		p.BatchCallbackID = &e.ID
		ps, rows = append(ps, p), append(rows, row)
	}
	return ps, rows
}

// railsPropertyKeys are the keys ActiveJob's serializer adds to a hash to
// remember which keys were symbols. A batch written by GoodJob for Rails
// has them; they are not properties.
var railsPropertyKeys = []string{"_aj_symbol_keys", "_aj_ruby2_keywords"}

// decodeProperties reads serialized_properties.
func decodeProperties(raw []byte) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var props map[string]any
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, fmt.Errorf("decode batch properties: %w", err)
	}
	for _, k := range railsPropertyKeys {
		delete(props, k)
	}
	return props, nil
}
