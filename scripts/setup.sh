#!/usr/bin/env bash
# Installs what a fresh machine lacks, idempotently: the wasm target, the wasm-bindgen CLI of
# exactly the version Cargo.lock pins, Debian's chromium (for Playwright) and faketime (for the
# clock-skew test), and the end2end npm packages (no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."

WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' Cargo.lock)

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (a few minutes, once)"
  # Not --locked: its lockfile pins a webpki-roots the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

if [ "${SKIP_BROWSER:-0}" != "1" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium from Debian"
    if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # Debian's faketime: the clock-skew test runs a second instance with its clock shifted.
  if ! command -v faketime >/dev/null 2>&1; then
    echo "installing faketime from Debian"
    if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq faketime >/dev/null
  fi
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
