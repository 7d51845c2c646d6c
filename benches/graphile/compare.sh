#!/usr/bin/env bash
# Side by side on one PostgreSQL server, in one run: graphile-worker 0.17.3 draining N no-op jobs
# (concurrency 10, localQueue.size 500, completeJobBatchDelay 0) and erp-bridge's outbox bench
# (no-op adapter, default batch size, one sync-log row per event). graphile-worker is installed
# from npm into a temporary folder; each side gets a fresh database.
#
#   PG=postgres://postgres@127.0.0.1:5432 BENCH_EVENTS=20000 benches/graphile/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
N=${BENCH_EVENTS:-20000}
WORK=$(mktemp -d)
DB=gw_bench_$$
trap 'psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

echo "--- installing graphile-worker 0.17.3 into $WORK"
cp benches/graphile/drain.mjs "$WORK/"
(cd "$WORK" && npm init -y >/dev/null && npm install --no-audit --no-fund graphile-worker@0.17.3 >/dev/null)

echo "--- graphile-worker ($N jobs)"
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
(cd "$WORK" && DATABASE_URL="$PG/$DB" BENCH_EVENTS=$N node drain.mjs)

echo "--- erp-bridge outbox ($N events)"
TEST_DATABASE_URL="$PG/test" BENCH_EVENTS=$N BENCH_ONLY=postgres \
  cargo bench --features ssr --bench outbox
