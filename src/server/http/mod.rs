//! HTTP surfaces other than the Leptos pages: the JSON API, health and metrics, error responses
//! and input extractors. Handlers are thin: principal → one service call → response.

pub mod api;
pub mod commerce_api;
pub mod console_api;
pub mod errors;
pub mod extract;
pub mod headers;
pub mod health;
pub mod netsuite;
pub mod observe;
pub mod openapi;
pub mod quickbooks;
pub mod reconciliation_api;
pub mod source;
pub mod webhooks;
