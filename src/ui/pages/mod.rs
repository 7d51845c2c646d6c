//! One module per route.

pub mod api_tokens;
pub mod connection_settings;
pub mod customers;
pub mod errors;
pub mod home;
pub mod inbox;
pub mod integrations;
pub mod login;
pub mod mappings;
pub mod netsuite_connect;
pub mod order_new;
pub mod orders;
pub mod outbox;
pub mod paging;
pub mod reconciliation;
pub mod sync_log_detail;
pub mod sync_logs;
pub mod sync_runs;
pub mod users;
