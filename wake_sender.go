package goodjob

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/jobsql"
	"github.com/goodjob-go/goodjob/internal/notifier"
)

// wakeSpacing is the least time between the starts of two NOTIFY
// statements while Enqueue calls arrive faster than they can be sent one by
// one, so more of them share each notifying commit.
const wakeSpacing = time.Millisecond

// wakeSendTimeout bounds one NOTIFY statement of the wake sender.
const wakeSendTimeout = 5 * time.Second

// wakeSender sends the wake-ups of Enqueue calls made outside a caller's
// transaction, coalesced per queue.
//
// PostgreSQL serialises the commits of transactions that NOTIFY: each takes
// a database-wide lock before commit and holds it through its WAL flush, so
// notifying commits cannot share a flush with one another. An insert that
// notified in its own statement therefore ran at about half the rate of a
// plain insert from 8 goroutines. Enqueue now inserts without notifying and
// hands the wake-up here. One goroutine at a time sends, in one statement,
// one notification per queue for everything that accumulated while its
// previous statement was in flight: when idle, a wake-up goes out at once,
// one round trip after the insert commits; under load (the previous
// statement announced several jobs), statements start at least wakeSpacing
// apart, so many inserts share one notifying commit and the inserts
// themselves commit together, unhindered by the notify lock.
//
// The goroutine exists only while wake-ups are pending, so a Client that
// only enqueues needs no Start or Stop; Stop waits for what is pending. A
// failed NOTIFY is logged and its jobs are found by the next poll.
// Transactional enqueues keep their NOTIFY inside the caller's transaction,
// so a rollback wakes nobody.
type wakeSender struct {
	db     *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	pending queueWakes
	idle    chan struct{} // nil while no goroutine sends; closed when it ends
}

// pendingWake is the wake-up owed to one queue: its earliest job and how
// many jobs it announces.
type pendingWake struct {
	at    time.Time
	count int
}

// queueWakes are the wake-ups owed, by queue.
type queueWakes map[string]pendingWake

// add counts jobs more for queue, the earliest of them due at at.
func (ws queueWakes) add(queue string, at time.Time, jobs int) {
	w, ok := ws[queue]
	if !ok || at.Before(w.at) {
		w.at = at
	}
	w.count += jobs
	ws[queue] = w
}

func newWakeSender(db *pgxpool.Pool, logger *slog.Logger) *wakeSender {
	return &wakeSender{db: db, logger: logger, pending: make(queueWakes)}
}

// add records jobs written to queue, the earliest due at at, and makes
// sure a goroutine will send their wake-up. It never blocks on the database.
func (s *wakeSender) add(queue string, at time.Time, jobs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending.add(queue, at, jobs)
	if s.idle == nil {
		s.idle = make(chan struct{})
		go s.run(s.idle)
	}
}

// run sends until nothing is pending, then ends.
func (s *wakeSender) run(idle chan struct{}) {
	defer close(idle)
	var last time.Time // start of the previous send, when it carried several jobs
	for {
		if d := wakeSpacing - time.Since(last); !last.IsZero() && d > 0 {
			time.Sleep(d)
		}
		s.mu.Lock()
		batch := s.pending
		if len(batch) == 0 {
			s.idle = nil
			s.mu.Unlock()
			return
		}
		s.pending = make(queueWakes, len(batch))
		s.mu.Unlock()
		last = time.Time{}
		if jobs(batch) > 1 {
			last = time.Now()
		}
		s.send(batch)
	}
}

func jobs(batch queueWakes) int {
	n := 0
	for _, w := range batch {
		n += w.count
	}
	return n
}

// send issues one statement with one notification per queue of batch, in
// GoodJob's payload; the count appears only when it announces several jobs.
func (s *wakeSender) send(batch queueWakes) {
	payloads := make([]string, 0, len(batch))
	for q, w := range batch {
		count := w.count
		if count == 1 {
			count = 0
		}
		payloads = append(payloads, notifier.Payload(q, w.at, count))
	}
	slices.Sort(payloads)
	ctx, cancel := context.WithTimeout(context.Background(), wakeSendTimeout)
	defer cancel()
	if err := jobsql.NotifyAll(ctx, s.db, payloads); err != nil {
		s.logger.Warn("send wake-ups; polling will find the jobs",
			slog.Int("queues", len(payloads)), slog.Any(keyError, err))
	}
}

// flush waits until every wake-up added so far has been sent, or ctx ends.
func (s *wakeSender) flush(ctx context.Context) {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}
