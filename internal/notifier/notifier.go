// Package notifier keeps one dedicated connection LISTENing on GoodJob's
// wake-up channel and hands every notification to a callback.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// Defaults for the zero values of Config.
const (
	// PingIntervalDefault is GoodJob's keepalive interval.
	PingIntervalDefault   = 10 * time.Second
	PingTimeoutDefault    = 5 * time.Second
	ConnectTimeoutDefault = 10 * time.Second
)

// Config configures a Listener.
type Config struct {
	ConnConfig *pgx.ConnConfig
	Channel    string
	Logger     *slog.Logger
	// PingInterval is how long the connection may stay quiet before the
	// listener checks it with a ping. A half-open TCP connection (the
	// server or a middlebox gone without a FIN) otherwise looks alive until
	// the operating system's keepalive gives up, often hours later.
	// Default PingIntervalDefault.
	PingInterval time.Duration
	// PingTimeout bounds the ping; a ping that fails or takes longer drops
	// the connection and reconnects. Default PingTimeoutDefault.
	PingTimeout time.Duration
	// ConnectTimeout bounds connecting and the LISTEN statement, unless
	// ConnConfig sets a shorter ConnectTimeout. Default
	// ConnectTimeoutDefault.
	ConnectTimeout time.Duration
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
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = PingIntervalDefault
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = PingTimeoutDefault
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = ConnectTimeoutDefault
	}
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
	conn, err := l.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		l.backend.Store(0)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	l.backend.Store(conn.PgConn().PID())
	l.cfg.Logger.Debug("listening", "channel", l.cfg.Channel)
	listening()
	l.once.Do(func() { close(l.ready) })
	for {
		n, err := l.wait(ctx, conn)
		if err != nil {
			return err
		}
		if n == nil {
			continue
		}
		note, ok := Parse(n.Payload)
		l.cfg.Notify(note, ok)
	}
}

// connect opens the connection and LISTENs, within ConnectTimeout: a
// server that accepts TCP but never answers must not hang the listener.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.cfg.Channel}.Sanitize()); err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
		return nil, fmt.Errorf("listen on %s: %w", l.cfg.Channel, err)
	}
	return conn, nil
}

// wait returns the next notification, or nil after PingInterval of quiet
// once a ping has shown the connection still works. pgconn keeps the
// connection usable when a wait ends by its deadline, which is what lets a
// bounded wait stand in for a keepalive timer.
func (l *Listener) wait(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	waitCtx, cancel := context.WithTimeout(ctx, l.cfg.PingInterval)
	n, err := conn.WaitForNotification(waitCtx)
	cancel()
	switch {
	case err == nil:
		return n, nil
	case ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
		return nil, fmt.Errorf("wait for notification: %w", err)
	}

	pingCtx, cancel := context.WithTimeout(ctx, l.cfg.PingTimeout)
	defer cancel()
	if err := conn.Ping(pingCtx); err != nil {
		return nil, fmt.Errorf("ping listener connection after %s of quiet: %w",
			l.cfg.PingInterval, err)
	}
	l.cfg.Logger.Debug("listener connection answered ping")
	return nil, nil
}
