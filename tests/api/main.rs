//! Integration tests: the real application on 127.0.0.1:0 with a fresh database per test,
//! spoken to over HTTP. Each storage-touching test runs on SQLite and, when TEST_DATABASE_URL is
//! set (CI sets it), on PostgreSQL.

mod helpers;
mod scripted;

mod auth;
mod chaos;
mod clock;
mod commerce;
mod concurrency;
mod console;
mod head_of_line;
mod isolation;
mod logs;
mod netsuite_client;
mod netsuite_connect;
mod netsuite_faults;
mod netsuite_inbound;
mod netsuite_sandbox;
mod netsuite_sync;
mod operations;
mod outbox;
mod qbo_books;
mod qbo_reconcile;
mod quickbooks;
mod rbac;
mod restart;
mod schema;
mod security;
mod sign_in;
mod store_contract;
mod token_refresh;
mod users;
mod webhooks;
