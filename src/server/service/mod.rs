//! Use cases. Every function that acts for a caller takes its [`Principal`] and checks the policy
//! here, so the UI's server functions and the JSON API behave the same. Every query is scoped to
//! the principal's tenant.
//!
//! [`Principal`]: crate::server::auth::Principal

pub mod api_tokens;
pub mod connection_settings;
pub mod connections;
pub mod customers;
pub mod dashboard;
pub mod errors;
pub mod exports;
pub mod inbox_view;
pub mod manual_sync;
pub mod mappings_view;
pub mod netsuite;
pub mod oauth_state;
pub mod orders;
pub mod paging;
pub mod quickbooks;
pub mod reconciliation;
pub mod sign_in;
pub mod sync_admin;
pub mod sync_log_view;
pub mod sync_runs;
pub mod sync_status;
pub mod tenants;
pub mod tokens;
pub mod user_access;
pub mod users;
pub mod webhooks;
