#!/usr/bin/env bash
# Runs the pgbench scripts in this directory against a scratch database:
# goodjob's writes per job as they are, the same without the claim's row
# version, and both again without the two unconditional good_jobs indexes
# every row version goes into. Prints rows per second for each.
#   bench/sql/run.sh [postgres://user@host:port]   (default: 127.0.0.1:5432, user postgres)
set -euo pipefail
cd "$(dirname "$0")"
server=${1:-postgres://postgres@127.0.0.1:5432}
db=goodjob_sql_$$
clients=${CLIENTS:-4}
psql -q "$server/postgres" -c "CREATE DATABASE $db"
trap 'psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db"' EXIT
(cd ../.. && go run ./cmd/goodjob migrate --database-url "$server/$db" >/dev/null)
run() { # label script
	psql -q "$server/$db" -f fill.sql >/dev/null
	tps=$(pgbench -n -c "$clients" -j 2 -t $((400 / clients)) -f "$2" "$server/$db" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	awk -v l="$1" -v t="$tps" 'BEGIN { printf "%-44s %8.0f rows/s\n", l, t * 500 }'
}
for round in 1 2; do
	run "claim version + finish (goodjob today)" claim_finish.sql
	run "row-lock claim + finish" rowlock.sql
done
psql -q "$server/$db" -c 'DROP INDEX index_good_jobs_on_job_class;
	DROP INDEX index_good_jobs_on_active_job_id_and_created_at'
for round in 1 2; do
	run "claim version + finish, 2 indexes fewer" claim_finish.sql
	run "row-lock claim + finish, 2 indexes fewer" rowlock.sql
done
