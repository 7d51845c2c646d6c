//! QuickBooks Online: configuration, the HTTP client (OAuth and API), tokens with a
//! single-flight refresh, the outbox adapter, webhook verification and parsing, and the inbound
//! processing of webhooks and CDC. `shared/reference/quickbooks-online.md` is the source of the
//! rules here.

pub mod adapter;
pub mod client;
pub mod company;
pub mod config;
pub mod connector;
pub mod fault;
pub mod inbound;
pub mod money;
pub mod reconcile;
pub mod request_id;
pub mod tokens;
pub mod webhook;
