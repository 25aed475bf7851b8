package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Scratch is a database, or a schema when the role may not create
// databases, made for one benchmark run and dropped after it.
type Scratch struct {
	// Pool is connected to the scratch database or schema.
	Pool *pgxpool.Pool
	// Name is the database or schema name, goodjob_bench_<random>.
	Name string
	// Schema is true when Name is a schema in the server's database.
	Schema bool

	admin *pgx.ConnConfig // the caller's connection, for dropping Name
}

// Create makes a scratch database named goodjob_bench_<random> on the
// server behind url and opens a pool of up to maxConns connections on it.
// A separate database keeps the benchmark's notifications away from
// workers listening in the caller's database. When the role lacks the
// CREATEDB privilege it makes a schema in the url's database instead.
// Create applies no migrations.
func Create(ctx context.Context, url string, maxConns int) (*Scratch, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("name scratch database: %w", err)
	}
	s := &Scratch{Name: "goodjob_bench_" + hex.EncodeToString(b[:]), admin: cfg.ConnConfig.Copy()}

	err = s.exec(ctx, "CREATE DATABASE "+s.Name)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
		s.Schema = true
		err = s.exec(ctx, "CREATE SCHEMA "+s.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("create scratch %s: %w", s.Name, err)
	}

	cfg.MaxConns = int32(maxConns)
	if s.Schema {
		cfg.ConnConfig.RuntimeParams["search_path"] = s.Name
	} else {
		// The caller's search_path names schemas of its own database.
		cfg.ConnConfig.Database = s.Name
		delete(cfg.ConnConfig.RuntimeParams, "search_path")
	}
	if s.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
		err = s.Pool.Ping(ctx)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect to scratch %s: %w", s.Name, err), s.Drop(ctx))
	}
	return s, nil
}

// Drop closes the pool and drops the scratch database or schema.
func (s *Scratch) Drop(ctx context.Context) error {
	if s.Pool != nil {
		s.Pool.Close()
	}
	stmt := "DROP DATABASE IF EXISTS " + s.Name + " WITH (FORCE)"
	if s.Schema {
		stmt = "DROP SCHEMA IF EXISTS " + s.Name + " CASCADE"
	}
	if err := s.exec(ctx, stmt); err != nil {
		return fmt.Errorf("drop scratch %s: %w", s.Name, err)
	}
	return nil
}

// exec runs one statement on a connection of its own to the caller's
// database: CREATE and DROP DATABASE cannot run inside the scratch one.
func (s *Scratch) exec(ctx context.Context, stmt string) error {
	conn, err := pgx.ConnectConfig(ctx, s.admin)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, stmt)
	return err
}
