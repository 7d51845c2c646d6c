#!/usr/bin/env bash
# The whole suite: unit + integration tests (SQLite, and PostgreSQL when TEST_DATABASE_URL is
# set), then Playwright end-to-end tests in Chromium against a freshly started demo server.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build-site.sh

cargo test --features ssr

TARGET_DIR=${CARGO_TARGET_DIR:-target}
E2E_DIR=$(mktemp -d)
PORT=${E2E_PORT:-3917}
SANDBOX_PORT=${E2E_SANDBOX_PORT:-3918}
NETSUITE_PORT=${E2E_NETSUITE_PORT:-3919}
# The demo brings its QuickBooks and NetSuite sandboxes; give them ports and files of their own.
DATABASE_URL="sqlite://$E2E_DIR/e2e.db" BIND_ADDR="127.0.0.1:$PORT" \
  SANDBOX_BIND="127.0.0.1:$SANDBOX_PORT" SANDBOX_DB="$E2E_DIR/sandbox.db" OUTBOX_POLL_MS=100 \
  NETSUITE_SANDBOX_BIND="127.0.0.1:$NETSUITE_PORT" NETSUITE_SANDBOX_DB="$E2E_DIR/netsuite.db" \
  "$TARGET_DIR/debug/erp-bridge" serve --demo >"$E2E_DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$E2E_DIR"' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
  kill -0 $SERVER 2>/dev/null || { cat "$E2E_DIR/server.log"; exit 1; }
  sleep 0.2
done
(cd end2end && BASE_URL="http://127.0.0.1:$PORT" SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT" \
  NETSUITE_SANDBOX_URL="http://127.0.0.1:$NETSUITE_PORT" npx playwright test) || {
  echo "--- server log ---"; tail -50 "$E2E_DIR/server.log"; exit 1; }

# The JSON API against its own OpenAPI document (schemathesis; its own server and database).
scripts/fuzz-api.sh
