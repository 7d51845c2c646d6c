#!/usr/bin/env bash
# Property-based test of the JSON API against its own OpenAPI document (schemathesis, from PyPI,
# installed here into a virtualenv beside the build cache). It starts the demo server on its own
# database, signs in as the demo Admin, makes an Admin API token, and lets schemathesis send
# requests generated from /api/v1/openapi.json. It fails on any 5xx, any status or body the
# document does not declare, and any schema-valid request refused (404 and 409 excepted: they
# follow from state, and the document lists them where they can happen).
#
# Usage: scripts/fuzz-api.sh   (after scripts/build-site.sh; FUZZ_EXAMPLES, FUZZ_SEED tune it)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR=${CARGO_TARGET_DIR:-target}
ST_VERSION=4.32.5
VENV=${FUZZ_VENV:-$TARGET_DIR/schemathesis-venv}
if [ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "st, version $ST_VERSION" ]; then
  echo "installing schemathesis $ST_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi

WORK=$(mktemp -d)
PORT=${FUZZ_PORT:-3927}
SANDBOX_PORT=${FUZZ_SANDBOX_PORT:-3928}
BASE="http://127.0.0.1:$PORT"
DATABASE_URL="sqlite://$WORK/fuzz.db" BIND_ADDR="127.0.0.1:$PORT" \
  SANDBOX_BIND="127.0.0.1:$SANDBOX_PORT" SANDBOX_DB="$WORK/sandbox.db" OUTBOX_POLL_MS=200 \
  NETSUITE_SANDBOX_BIND="127.0.0.1:0" NETSUITE_SANDBOX_DB="$WORK/netsuite.db" \
  RUST_LOG=warn "$TARGET_DIR/debug/erp-bridge" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "$BASE/readyz" && break
  kill -0 $SERVER 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.2
done

# An Admin API token, made the way a script's owner would: sign in, then POST /api/v1/api-tokens.
JAR="$WORK/cookies"
curl -sf -c "$JAR" -o /dev/null -H "origin: $BASE" -H "accept: application/json" \
  --data-urlencode "email=admin@demo.example" --data-urlencode "password=erp-bridge-demo" \
  "$BASE/auth/login"
TOKEN=$(curl -sf -b "$JAR" -H "origin: $BASE" -H "content-type: application/json" \
  -d '{"name":"schemathesis","role":"Admin"}' "$BASE/api/v1/api-tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Three runs. A bearer token drives every operation it may call but revoking tokens; a session
# drives those that need a person (creating a token, connecting QuickBooks or NetSuite); revoking runs alone,
# where schemathesis cannot learn (from the token list) the id of the token it runs with.
SESSION=$(awk '$6 == "erp_bridge_session" { print $7 }' "$JAR")
# One worker: Hypothesis's lambda-source cache is not thread-safe (two workers sometimes end a run
# with "AST constructor recursion depth mismatch", a tool error, not a finding).
run() {
  "$VENV/bin/st" --config-file scripts/schemathesis.toml run "$BASE/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,positive_data_acceptance \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_EXAMPLES:-40}" --seed "${FUZZ_SEED:-20261127}" --workers 1 "$@"
}
status=0
echo "--- bearer token"
run --header "Authorization: Bearer $TOKEN" --exclude-operation-id create_token \
  --exclude-operation-id revoke_token --exclude-operation-id authorize \
  --exclude-operation-id connect || status=$?
echo "--- session (operations that need a person)"
run --header "Cookie: erp_bridge_session=$SESSION" --include-operation-id create_token \
  --include-operation-id authorize --include-operation-id connect || status=$?
echo "--- bearer token, revoking tokens"
run --header "Authorization: Bearer $TOKEN" --include-operation-id revoke_token || status=$?
if [ $status -ne 0 ]; then
  echo "--- server log (last 40 lines) ---"; grep -v 'malformed session id' "$WORK/server.log" | tail -40
fi
exit $status
