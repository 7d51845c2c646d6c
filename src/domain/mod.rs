//! Shared domain types with no I/O: roles and the authorization policy table, the values the UI
//! shows. Compiled into both the server and the browser build.

pub mod authz;
pub mod commerce;
pub mod connection;
pub mod forms;
pub mod money;
pub mod reconcile;
pub mod sync;
pub mod user;

pub use authz::{Policy, Role};
