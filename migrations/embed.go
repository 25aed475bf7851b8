// Package migrations holds the SQL that creates goodjob's tables.
//
// The files are numbered (0001_..., 0002_...) and applied in that order. They
// create the same tables, columns and indexes as GoodJob 4 for Rails, and
// every statement is guarded (IF NOT EXISTS, ADD COLUMN IF NOT EXISTS), so the
// files also upgrade a database where GoodJob for Rails already made the
// tables. Most programs call goodjob.Migrate instead of reading these files;
// they are exported for teams that run migrations with their own tool.
package migrations

import "embed"

// FS holds the numbered migration files, each named
// NNNN_description.sql at the root of the file system.
//
//go:embed *.sql
var FS embed.FS
