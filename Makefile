# The two commands of the README: `make run` and `make test`.
.PHONY: run test build check fmt clippy

run: ## build what is missing and start the demo on http://127.0.0.1:3000
	SKIP_BROWSER=1 scripts/setup.sh
	scripts/build-site.sh
	$${CARGO_TARGET_DIR:-target}/debug/erp-bridge serve --demo

test: ## the whole suite: unit, integration (SQLite + PostgreSQL if TEST_DATABASE_URL), Playwright
	scripts/test.sh

build:
	scripts/build-site.sh

check:
	cargo check --features ssr --all-targets
	cargo check --lib --target wasm32-unknown-unknown --features hydrate

fmt:
	cargo fmt --all

clippy:
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings
