package notifier_test

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// stallProxy forwards TCP connections to a Postgres server. Stall makes the
// connections open at that moment silently dead: bytes in either direction
// are read and dropped, and no socket is closed, which is what a half-open
// connection looks like to both ends. Connections made later work.
type stallProxy struct {
	ln      net.Listener
	network string
	target  string

	mu      sync.Mutex
	pairs   []*proxyPair
	closing bool
	wg      sync.WaitGroup
}

type proxyPair struct {
	client, server net.Conn
	stalled        chan struct{}
}

// startStallProxy proxies to the server cfg names and points cfg at the
// proxy instead. The proxy and all its connections close when t ends.
func startStallProxy(t testing.TB, cfg *pgx.ConnConfig) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stallProxy{ln: ln, network: "tcp",
		target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network = "unix"
		p.target = cfg.Host + "/.s.PGSQL." + strconv.Itoa(int(cfg.Port))
	}
	addr := ln.Addr().(*net.TCPAddr)
	cfg.Host, cfg.Port, cfg.Fallbacks = "127.0.0.1", uint16(addr.Port), nil

	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial(p.network, p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		pair := &proxyPair{client: client, server: server, stalled: make(chan struct{})}
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			return
		}
		p.pairs = append(p.pairs, pair)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(pair, pair.server, pair.client)
		go p.pipe(pair, pair.client, pair.server)
	}
}

// pipe copies src to dst until either fails, dropping what it reads once
// the pair is stalled.
func (p *stallProxy) pipe(pair *proxyPair, dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-pair.stalled:
			default:
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Stall silences every connection open now.
func (p *stallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pair := range p.pairs {
		select {
		case <-pair.stalled:
		default:
			close(pair.stalled)
		}
	}
}

func (p *stallProxy) close() {
	p.mu.Lock()
	p.closing = true
	_ = p.ln.Close()
	for _, pair := range p.pairs {
		_ = pair.client.Close()
		_ = pair.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
