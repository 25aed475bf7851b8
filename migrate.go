package goodjob

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/migrator"
)

// Migrate creates or upgrades goodjob's tables in the database behind pool:
// good_jobs, good_job_executions, good_job_processes, good_job_settings and
// good_job_batches, with their indexes. It records what it applied in
// good_job_migrations and skips it on the next call, so calling Migrate at
// every start-up is cheap.
//
// Migrate is safe to call from many processes at once: it runs in a single
// transaction guarded by a transaction-scoped advisory lock, which also works
// through PgBouncer in transaction mode. If anything fails, the transaction is
// rolled back and the database is left as it was.
//
// The tables are GoodJob 4's, so Migrate also works on a database where
// GoodJob for Rails already made them: it adds only what is missing (newer
// columns, indexes under GoodJob's own names) and leaves existing rows alone.
// The tables go in the first schema of the connection's search_path.
//
// Indexes are built inside the transaction, not CONCURRENTLY, so on a large
// existing good_jobs table the first Migrate blocks writes to it while it
// builds the missing ones. To avoid that, build them beforehand with CREATE
// INDEX CONCURRENTLY under the names used in package migrations; Migrate then
// skips them.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrator.Apply(ctx, pool)
}
