package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/jobsql"
)

// RawClaimBatch is how many rows one raw claim statement locks.
const RawClaimBatch = 100

// rawKind is the job_class of the rows the raw statements write, so they are
// never counted as the library's.
const rawKind = "BenchRaw"

// RawParams configures the raw-SQL limit measurement.
type RawParams struct {
	Clients  int           // connections running statements at once, like pgbench -c
	Duration time.Duration // how long the insert part runs
	Jobs     int           // rows claimed and finished by the drain part
}

// RawResult is the throughput of the least SQL the design needs per job,
// without the library around it.
type RawResult struct {
	Clients int `json:"clients"`
	// Insert is single-row INSERTs of a row like Enqueue's, one statement
	// per transaction, without the notification.
	Insert Throughput `json:"insert"`
	// ClaimFinish drains a backlog with a claim of RawClaimBatch rows
	// followed by a statement that finishes them and writes their
	// execution rows, as the library's claim and completion do.
	ClaimBatch  int        `json:"claim_batch"`
	ClaimFinish Throughput `json:"claim_finish"`
}

// Raw measures the raw limits on connections of its own, one per client,
// each running its statements back to back as a pgbench client does. It
// empties the job tables before each part.
func Raw(ctx context.Context, pool *pgxpool.Pool, p RawParams) (RawResult, error) {
	res := RawResult{Clients: p.Clients, ClaimBatch: RawClaimBatch}
	if p.Clients < 1 || p.Jobs < 1 || p.Duration <= 0 {
		return res, fmt.Errorf("raw SQL with %d clients, %d jobs for %s: "+
			"want 1 or more clients and jobs and a positive duration", p.Clients, p.Jobs, p.Duration)
	}
	params, err := sampleParams(ctx, pool)
	if err != nil {
		return res, err
	}
	conns, err := connect(ctx, pool, p.Clients)
	defer closeAll(conns)
	if err != nil {
		return res, err
	}
	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return res, err
	}
	if res.Insert, err = rawInsert(ctx, conns, params, p.Duration); err != nil {
		return res, err
	}

	if err := jobsql.BenchReset(ctx, pool); err != nil {
		return res, err
	}
	err = jobsql.BenchFill(ctx, pool, jobsql.BenchFillParams{Rows: jobsql.BenchDue,
		Kind: rawKind, Queue: "default", Count: p.Jobs, Params: params, Now: time.Now().UTC()})
	if err != nil {
		return res, err
	}
	if err := jobsql.BenchVacuum(ctx, pool); err != nil {
		return res, err
	}
	res.ClaimFinish, err = rawDrain(ctx, conns, p.Jobs)
	return res, err
}

// sampleParams enqueues one job through the library and returns its
// serialized_params, so raw rows are as large as real ones.
func sampleParams(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	c, err := newClient(pool, 1, nil)
	if err != nil {
		return nil, err
	}
	row, err := c.Enqueue(ctx, NoopArgs{N: 1})
	if err != nil {
		return nil, fmt.Errorf("enqueue sample job: %w", err)
	}
	return jobsql.BenchSerializedParams(ctx, pool, row.ID)
}

// connect opens n connections configured like pool's.
func connect(ctx context.Context, pool *pgxpool.Pool, n int) ([]*pgx.Conn, error) {
	conns := make([]*pgx.Conn, 0, n)
	for range n {
		conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
		if err != nil {
			return conns, fmt.Errorf("connect raw client: %w", err)
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

func closeAll(conns []*pgx.Conn) {
	for _, c := range conns {
		_ = c.Close(context.Background())
	}
}

// rawInsert inserts rows one per statement on every connection until d has
// passed.
func rawInsert(ctx context.Context, conns []*pgx.Conn, params []byte,
	d time.Duration) (Throughput, error) {
	var rows atomic.Int64
	deadline := time.Now().Add(d)
	began := time.Now()
	err := eachConn(conns, func(conn *pgx.Conn) error {
		for time.Now().Before(deadline) {
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("new job id: %w", err)
			}
			now := time.Now().UTC()
			if err := jobsql.BenchRawInsert(ctx, conn, id, rawKind, "default", params,
				now); err != nil {
				return err
			}
			rows.Add(1)
		}
		return nil
	})
	return throughput(int(rows.Load()), time.Since(began)), err
}

// rawDrain claims and finishes rows on every connection until none is
// left, and checks that all jobs were finished.
func rawDrain(ctx context.Context, conns []*pgx.Conn, jobs int) (Throughput, error) {
	var finished atomic.Int64
	began := time.Now()
	err := eachConn(conns, func(conn *pgx.Conn) error {
		process := uuid.New()
		for {
			ids, err := jobsql.BenchRawClaim(ctx, conn, process, rawKind, RawClaimBatch,
				time.Now().UTC())
			if err != nil || len(ids) == 0 {
				return err
			}
			n, err := jobsql.BenchRawFinish(ctx, conn, process, ids, time.Now().UTC())
			if err != nil {
				return err
			}
			finished.Add(int64(n))
		}
	})
	res := throughput(int(finished.Load()), time.Since(began))
	if err == nil && res.Jobs != jobs {
		err = fmt.Errorf("raw drain finished %d of %d rows", res.Jobs, jobs)
	}
	return res, err
}

// eachConn runs fn on every connection at once and joins their errors.
func eachConn(conns []*pgx.Conn, fn func(*pgx.Conn) error) error {
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() { errs[i] = fn(conn) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
