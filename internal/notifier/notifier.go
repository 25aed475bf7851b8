// Package notifier keeps one dedicated connection LISTENing on GoodJob's
// wake-up channel and hands every notification to a callback.
package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification is one decoded wake-up.
type Notification struct {
	Queue       string
	ScheduledAt time.Time // zero when the payload carried none
	Count       int
}

// payload is GoodJob's wake-up JSON.
type payload struct {
	QueueName   string `json:"queue_name"`
	ScheduledAt string `json:"scheduled_at,omitempty"`
	Count       int    `json:"count,omitempty"`
}

// Payload encodes a wake-up for queue, due at scheduledAt, as GoodJob does.
func Payload(queue string, scheduledAt time.Time, count int) string {
	b, _ := json.Marshal(payload{
		QueueName:   queue,
		ScheduledAt: scheduledAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Count:       count,
	})
	return string(b)
}

// Parse decodes a wake-up. A payload it cannot read still wakes every pool:
// it returns a Notification with an empty Queue and ok false.
func Parse(s string) (n Notification, ok bool) {
	var p payload
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return Notification{}, false
	}
	n = Notification{Queue: p.QueueName, Count: p.Count}
	if p.ScheduledAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, p.ScheduledAt); err == nil {
			n.ScheduledAt = t
		}
	}
	return n, true
}

// Config configures a Listener.
type Config struct {
	ConnConfig *pgx.ConnConfig
	Channel    string
	Logger     *slog.Logger
	// Notify receives every notification, on the listener's goroutine.
	Notify func(Notification, bool)
	// Reconnected runs after a lost connection is listening again, so the
	// caller can poll for whatever was enqueued during the gap.
	Reconnected func()
}

// Listener owns the LISTEN connection and reconnects it with backoff.
type Listener struct {
	cfg     Config
	ready   chan struct{}
	once    sync.Once
	backend atomic.Uint32
}

// New returns a Listener; call Run to start it.
func New(cfg Config) *Listener {
	return &Listener{cfg: cfg, ready: make(chan struct{})}
}

// Ready is closed once the first LISTEN succeeded.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// BackendPID is the server process of the current connection, 0 when none.
func (l *Listener) BackendPID() uint32 { return l.backend.Load() }

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	const maxBackoff = 5 * time.Second
	backoff := 50 * time.Millisecond
	connected := false
	for ctx.Err() == nil {
		err := l.session(ctx, func() {
			backoff = 50 * time.Millisecond
			if connected && l.cfg.Reconnected != nil {
				l.cfg.Reconnected()
			}
			connected = true
		})
		if ctx.Err() != nil {
			return
		}
		l.cfg.Logger.Warn("listener connection lost", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// session connects, LISTENs and delivers notifications until an error.
func (l *Listener) session(ctx context.Context, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("connect listener: %w", err)
	}
	defer func() {
		l.backend.Store(0)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.cfg.Channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen on %s: %w", l.cfg.Channel, err)
	}
	l.backend.Store(conn.PgConn().PID())
	l.cfg.Logger.Debug("listening", "channel", l.cfg.Channel)
	listening()
	l.once.Do(func() { close(l.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		note, ok := Parse(n.Payload)
		l.cfg.Notify(note, ok)
	}
}
