#!/usr/bin/env bash
# Builds the site without cargo-leptos (DESIGN § 12): the hydrate wasm + wasm-bindgen glue and
# the stylesheet into $SITE/pkg, public/ into $SITE, then the ssr server binary.
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=erp_bridge
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SITE=${LEPTOS_SITE_ROOT:-target/site}
PKG=$SITE/pkg
export LEPTOS_OUTPUT_NAME=$NAME

cargo build --lib --target wasm32-unknown-unknown --features hydrate
mkdir -p "$PKG"
wasm-bindgen --target web --out-dir "$PKG" --out-name "$NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/debug/$NAME.wasm"
mv "$PKG/${NAME}_bg.wasm" "$PKG/$NAME.wasm"   # leptos' HydrationScripts loads /pkg/NAME.wasm
cp style/main.css "$PKG/$NAME.css"
cp -r public/. "$SITE/"
cargo build --bin erp-bridge --features ssr
