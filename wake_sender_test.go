package goodjob_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goodjob-go/goodjob"
	"github.com/goodjob-go/goodjob/internal/testdb"
)

// enqueueConcurrently enqueues perQueue jobs into each queue from 8
// goroutines.
func enqueueConcurrently(t *testing.T, c *goodjob.Client, queues []string, perQueue int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < perQueue*len(queues); i += 8 {
				q := queues[i%len(queues)]
				if _, err := c.Enqueue(t.Context(), noopArgs{N: i}, goodjob.Queue(q)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// announced reads notifications until each of queues has announced want
// jobs (a payload without a count announces one) and returns how many
// notifications they took. Notifications of other queues are ignored: the
// channel is shared by every test of the database.
func announced(t *testing.T, notes <-chan string, queues []string, want int) int {
	t.Helper()
	got := make(map[string]int)
	for _, q := range queues {
		got[q] = 0
	}
	sent := 0
	done := func() bool {
		for _, n := range got {
			if n < want {
				return false
			}
		}
		return true
	}
	for !done() {
		raw := waitFor(t, notes, 5*time.Second, "notification")
		var p struct {
			Queue       string `json:"queue_name"`
			ScheduledAt string `json:"scheduled_at"`
			Count       int    `json:"count"`
		}
		if json.Unmarshal([]byte(raw), &p) != nil {
			continue
		}
		if _, ok := got[p.Queue]; !ok {
			continue
		}
		require.NotEmpty(t, p.ScheduledAt, raw)
		got[p.Queue] += max(p.Count, 1)
		sent++
	}
	for q, n := range got {
		require.Equal(t, want, n, "jobs announced for %s", q)
	}
	return sent
}

func TestEnqueue_WakeUpsAnnounceEveryJob(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	notes := listen(t, db.URL)
	c := newClient(t, db.Pool, goodjob.Config{})

	queues := []string{"wake_a_" + db.Schema, "wake_b_" + db.Schema}
	const perQueue = 100
	enqueueConcurrently(t, c, queues, perQueue)
	sent := announced(t, notes, queues, perQueue)
	t.Logf("%d notifications for %d jobs", sent, perQueue*len(queues))
}

func TestStop_SendsPendingWakeUps(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	notes := listen(t, db.URL)
	pool, err := pgxpool.New(t.Context(), db.URL)
	require.NoError(t, err)
	c := newClient(t, pool, goodjob.Config{})
	require.NoError(t, c.Start(t.Context()))

	queues := []string{"stop_" + db.Schema}
	const perQueue = 200
	enqueueConcurrently(t, c, queues, perQueue)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Stop(ctx))
	// Every wake-up went out before Stop returned: none needs the pool.
	pool.Close()
	announced(t, notes, queues, perQueue)
}

func TestEnqueue_FlushSendsPendingWakeUps(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	notes := listen(t, db.URL)
	pool, err := pgxpool.New(t.Context(), db.URL)
	require.NoError(t, err)
	c := newClient(t, pool, goodjob.Config{})

	queues := []string{"flush_" + db.Schema}
	const perQueue = 200
	enqueueConcurrently(t, c, queues, perQueue)
	require.NoError(t, c.Flush(t.Context()))
	pool.Close()
	announced(t, notes, queues, perQueue)
}

func TestEnqueueManyTx_WakesOnCommitOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testdb.New(t)
	c := newClient(t, db.Pool, goodjob.Config{})
	notes := listen(t, db.URL)
	many := func(queue string, n int) []goodjob.EnqueueParams {
		ps := make([]goodjob.EnqueueParams, n)
		for i := range ps {
			ps[i] = goodjob.EnqueueParams{Args: noopArgs{N: i},
				Options: []goodjob.EnqueueOption{goodjob.Queue(queue), goodjob.Labels("l1", "l2")}}
		}
		return ps
	}
	rolledQ, keptQ := "rolled_"+db.Schema, "kept_"+db.Schema

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = c.EnqueueManyTx(ctx, tx, many(rolledQ, 3))
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = c.EnqueueManyTx(ctx, tx, many(keptQ, 5))
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	// Notifications arrive in commit order: a wake-up leaked by the
	// rollback would come first.
	for {
		raw := waitFor(t, notes, 5*time.Second, "notification")
		require.NotContains(t, raw, rolledQ)
		if strings.Contains(raw, keptQ) {
			require.Contains(t, raw, `"count":5`)
			break
		}
	}
	var n int
	var labels []string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), min(labels::text)::text[]
		FROM good_jobs WHERE queue_name = $1`, keptQ).Scan(&n, &labels))
	require.Equal(t, 5, n)
	require.Equal(t, []string{"l1", "l2"}, labels)
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM good_jobs
		WHERE queue_name = $1`, rolledQ).Scan(&n))
	require.Zero(t, n)
}
