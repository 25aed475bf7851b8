package goodjobtest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goodjob-go/goodjob/internal/testdb"
)

// DB is a migrated throwaway database for one test.
type DB struct {
	// Pool is open on the test's schema; it is closed when the test ends.
	Pool *pgxpool.Pool
	// URL connects to the same schema, also from a child process.
	URL string
}

// NewDB returns a fresh schema with goodjob's tables, dropped when the test
// ends. It finds a server the way goodjob's own tests do:
// GOODJOB_TEST_DATABASE_URL, then DATABASE_URL, then PostgreSQL on
// 127.0.0.1:5432, then a throwaway container when Docker answers. It fails
// t with what to set when it finds none.
//
// The schemas live in one database per test binary. Call Main from
// TestMain so that database is dropped when the tests end.
func NewDB(t testing.TB) *DB {
	t.Helper()
	db := testdb.New(t)
	return &DB{Pool: db.Pool, URL: db.URL}
}

// Main runs the package's tests, then drops the database NewDB made and
// exits. Call it from TestMain:
//
//	func TestMain(m *testing.M) { goodjobtest.Main(m) }
func Main(m *testing.M) { testdb.Main(m) }
