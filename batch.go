package goodjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// Errors of batches.
var (
	// ErrBatchNotFound means no batch has the given id.
	ErrBatchNotFound = errors.New("goodjob: batch not found")
	// ErrBatchFinished is returned when adding jobs to a batch whose jobs
	// have all finished: its callbacks have been enqueued already.
	ErrBatchFinished = errors.New("goodjob: batch has finished")
)

// BatchEvent is why a batch callback runs, as GoodJob names it.
type BatchEvent string

// The batch events.
const (
	// BatchFinish: every job of the batch finished, succeeded or not.
	BatchFinish BatchEvent = "finish"
	// BatchSuccess: every job of the batch finished and none was discarded.
	BatchSuccess BatchEvent = "success"
	// BatchDiscard: a job of the batch was discarded, the first one.
	BatchDiscard BatchEvent = "discard"
)

// BatchParams describes a new batch. Every field is optional.
//
// A callback is given as an Args value, but only its Kind is stored (in
// good_job_batches.on_finish, on_success and on_discard): the callback job
// is enqueued with a BatchCallback as its args, so the callback's Args type
// should embed BatchCallback. A callback value with fields set is refused,
// since those fields could not be kept; put such data in Properties.
type BatchParams struct {
	Description string
	// Properties are stored as JSON in serialized_properties and handed to
	// each callback job.
	Properties map[string]any
	// OnFinish runs once every job of the batch has finished.
	OnFinish Args
	// OnSuccess runs once every job has finished if none was discarded.
	OnSuccess Args
	// OnDiscard runs when the first job of the batch is discarded.
	OnDiscard Args
	// CallbackQueue is the callbacks' queue; empty means the callback
	// kind's default, else "default".
	CallbackQueue string
	// CallbackPriority is the callbacks' priority; 0 means the callback
	// kind's default.
	CallbackPriority int
}

// BatchCallback is the args of a batch callback job. Embed it in the
// callback's Args type:
//
//	type ReportArgs struct{ goodjob.BatchCallback }
//
//	func (ReportArgs) Kind() string { return "batch_report" }
type BatchCallback struct {
	BatchID     uuid.UUID      `json:"batch_id"`
	Event       BatchEvent     `json:"event"`
	Description string         `json:"description,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
}

// callbackArgs is the Args of a callback job as it is enqueued: the stored
// kind and the BatchCallback document.
type callbackArgs struct {
	kind string
	BatchCallback
}

func (a callbackArgs) Kind() string { return a.kind }

// Batch is a handle on one good_job_batches row, for adding jobs to it and
// sealing it. Jobs added to a batch run at once; its callbacks wait until
// the batch is sealed (enqueued_at, in GoodJob's terms) and its jobs have
// all finished. A job of the batch can add more jobs to it from Work, with
// BatchFromContext, and the batch finishes only after those finish too.
type Batch struct {
	ID uuid.UUID
	c  *Client
}

// NewBatch writes a new, unsealed batch.
func (c *Client) NewBatch(ctx context.Context, p BatchParams) (*Batch, error) {
	return c.newBatch(ctx, c.db, p)
}

// NewBatchTx writes a new, unsealed batch inside the caller's transaction.
func (c *Client) NewBatchTx(ctx context.Context, tx pgx.Tx, p BatchParams) (*Batch, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: NewBatchTx with a nil transaction", ErrInvalidArgs)
	}
	return c.newBatch(ctx, tx, p)
}

func (c *Client) newBatch(ctx context.Context, db jobsql.DBTX, p BatchParams) (*Batch, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("goodjob: new batch id: %w", err)
	}
	bp := jobsql.BatchParams{ID: id, Now: c.now().UTC(), Description: p.Description,
		CallbackQueue: p.CallbackQueue}
	if err := p.validate(&bp); err != nil {
		return nil, fmt.Errorf("%w: batch: %w", ErrInvalidArgs, err)
	}
	if err := jobsql.InsertBatch(ctx, db, bp); err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	return &Batch{ID: id, c: c}, nil
}

// validate checks p and copies its stored form into bp.
func (p BatchParams) validate(bp *jobsql.BatchParams) error {
	var err error
	if bp.OnFinish, err = callbackKind("OnFinish", p.OnFinish); err != nil {
		return err
	}
	if bp.OnSuccess, err = callbackKind("OnSuccess", p.OnSuccess); err != nil {
		return err
	}
	if bp.OnDiscard, err = callbackKind("OnDiscard", p.OnDiscard); err != nil {
		return err
	}
	if p.CallbackQueue != "" {
		if err := validateQueueName(p.CallbackQueue); err != nil {
			return fmt.Errorf("CallbackQueue: %w", err)
		}
	}
	if p.CallbackPriority < math.MinInt32 || p.CallbackPriority > math.MaxInt32 {
		return fmt.Errorf("CallbackPriority %d does not fit the integer column",
			p.CallbackPriority)
	}
	if p.CallbackPriority != 0 {
		prio := int32(p.CallbackPriority)
		bp.CallbackPriority = &prio
	}
	if p.Properties != nil {
		if bp.Properties, err = json.Marshal(p.Properties); err != nil {
			return fmt.Errorf("encode Properties: %w", err)
		}
	}
	return nil
}

// callbackKind returns the kind to store for one callback: empty for none.
func callbackKind(field string, a Args) (string, error) {
	if a == nil {
		return "", nil
	}
	if isNil(a) {
		return "", fmt.Errorf("%s is a nil %T", field, a)
	}
	kind := a.Kind()
	if kind == "" {
		return "", fmt.Errorf("%s: %T has an empty Kind()", field, a)
	}
	if v := reflect.Indirect(reflect.ValueOf(a)); !v.IsZero() {
		return "", fmt.Errorf("%s: %T has fields set, but a callback keeps only its Kind;"+
			" pass data in Properties", field, a)
	}
	return kind, nil
}

// OpenBatch returns a handle on the existing batch id, or an error wrapping
// ErrBatchNotFound.
func (c *Client) OpenBatch(ctx context.Context, id uuid.UUID) (*Batch, error) {
	if _, err := c.BatchStatus(ctx, id); err != nil {
		return nil, err
	}
	return &Batch{ID: id, c: c}, nil
}

type batchKey struct{}

// withBatch gives Work's context the batch of job j, if it has one.
func (c *Client) withBatch(ctx context.Context, j *jobsql.ClaimedJob) context.Context {
	if j.BatchID == nil {
		return ctx
	}
	return context.WithValue(ctx, batchKey{}, &Batch{ID: *j.BatchID, c: c})
}

// BatchFromContext returns the batch of the job whose Work received ctx,
// so that the job can add more jobs to it. It reports false when ctx is
// not a running job's or the job is in no batch.
func BatchFromContext(ctx context.Context) (*Batch, bool) {
	b, ok := ctx.Value(batchKey{}).(*Batch)
	return b, ok
}

// Enqueue adds one job to the batch. The job's row carries the batch's id
// in batch_id. It returns an error wrapping ErrBatchFinished when the
// batch's jobs have all finished, and ErrBatchNotFound when the batch is
// gone.
func (b *Batch) Enqueue(ctx context.Context, args Args, opts ...EnqueueOption) (*JobRow, error) {
	rows, err := b.enqueue(ctx, nil, []EnqueueParams{{Args: args, Options: opts}})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// EnqueueTx is Enqueue inside the caller's transaction. Until tx ends it
// holds a share lock on the batch's row, which keeps the batch from
// finishing without the new job.
func (b *Batch) EnqueueTx(ctx context.Context, tx pgx.Tx, args Args,
	opts ...EnqueueOption) (*JobRow, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: Batch.EnqueueTx with a nil transaction", ErrInvalidArgs)
	}
	rows, err := b.enqueue(ctx, tx, []EnqueueParams{{Args: args, Options: opts}})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// EnqueueMany adds every job to the batch in one round trip of inserts.
// Either all are added or none is.
func (b *Batch) EnqueueMany(ctx context.Context, jobs []EnqueueParams) ([]*JobRow, error) {
	return b.enqueue(ctx, nil, jobs)
}

// EnqueueManyTx is EnqueueMany inside the caller's transaction, with the
// lock EnqueueTx describes.
func (b *Batch) EnqueueManyTx(ctx context.Context, tx pgx.Tx,
	jobs []EnqueueParams) ([]*JobRow, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: Batch.EnqueueManyTx with a nil transaction", ErrInvalidArgs)
	}
	return b.enqueue(ctx, tx, jobs)
}

// enqueue validates the jobs, then locks the batch and inserts them in tx,
// or in a transaction of its own when tx is nil.
func (b *Batch) enqueue(ctx context.Context, tx pgx.Tx, jobs []EnqueueParams) ([]*JobRow, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	ps, rows, err := b.c.prepareMany(ctx, jobs)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i].BatchID, rows[i].BatchID = &b.ID, b.ID
	}
	if tx != nil {
		if _, err := b.insert(ctx, tx, ps, rows); err != nil {
			return nil, err
		}
		return rows, nil
	}
	var wrote []bool
	err = pgx.BeginFunc(ctx, b.c.db, func(tx pgx.Tx) error {
		wrote, err = b.insert(ctx, tx, ps, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	b.c.wakeRows(rows, wrote, false)
	return rows, nil
}

// insert locks the batch and writes ps through the Client's insert path,
// so unique keys and concurrency limits hold for a batch's jobs too.
func (b *Batch) insert(ctx context.Context, tx pgx.Tx, ps []jobsql.InsertParams,
	rows []*JobRow) ([]bool, error) {
	finished, err := jobsql.LockBatchForAdd(ctx, tx, b.ID)
	switch {
	case errors.Is(err, jobsql.ErrNoBatch):
		return nil, fmt.Errorf("%w: %s", ErrBatchNotFound, b.ID)
	case err != nil:
		return nil, fmt.Errorf("goodjob: add jobs to batch: %w", err)
	case finished:
		return nil, fmt.Errorf("%w: cannot add jobs to batch %s", ErrBatchFinished, b.ID)
	}
	wrote, _, err := b.c.insertMany(ctx, tx, ps, rows)
	if err != nil {
		return nil, fmt.Errorf("goodjob: add %d jobs to batch %s: %w", len(ps), b.ID, err)
	}
	return wrote, nil
}

// Seal marks the batch as enqueued (enqueued_at), after which its
// callbacks fire as soon as its jobs have all finished; right away if they
// have finished already or the batch has none. Jobs can still be added to
// a sealed batch until then, from its own jobs or from outside. Sealing a
// sealed batch changes nothing.
func (b *Batch) Seal(ctx context.Context) error {
	var callbacks []*JobRow
	err := pgx.BeginTxFunc(ctx, b.c.db, pgx.TxOptions{IsoLevel: pgx.ReadCommitted},
		func(tx pgx.Tx) error {
			var err error
			callbacks, err = b.seal(ctx, tx)
			return err
		})
	if err != nil {
		return err
	}
	b.c.wakeRows(callbacks, nil, false)
	return nil
}

// SealTx is Seal inside the caller's transaction, which must run at READ
// COMMITTED, Postgres's default. The callbacks it may enqueue exist when
// tx commits.
func (b *Batch) SealTx(ctx context.Context, tx pgx.Tx) error {
	if tx == nil {
		return fmt.Errorf("%w: Batch.SealTx with a nil transaction", ErrInvalidArgs)
	}
	_, err := b.seal(ctx, tx)
	return err
}

func (b *Batch) seal(ctx context.Context, tx pgx.Tx) ([]*JobRow, error) {
	err := jobsql.SealBatch(ctx, tx, b.ID, b.c.now().UTC())
	if errors.Is(err, jobsql.ErrNoBatch) {
		return nil, fmt.Errorf("%w: %s", ErrBatchNotFound, b.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("goodjob: %w", err)
	}
	return b.c.settleBatches(ctx, tx, []uuid.UUID{b.ID})
}

// Status returns the batch's BatchStatus.
func (b *Batch) Status(ctx context.Context) (*BatchStatus, error) {
	return b.c.BatchStatus(ctx, b.ID)
}
