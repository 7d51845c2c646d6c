//! One module per route.

pub mod api_tokens;
pub mod customers;
pub mod errors;
pub mod home;
pub mod integrations;
pub mod login;
pub mod orders;
pub mod paging;
pub mod sync_logs;
pub mod users;
