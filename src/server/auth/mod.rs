//! Authentication and authorization plumbing: password hashing, the request's [`Principal`]
//! (from a session or a bearer token), the origin-check CSRF guard and the sign-in handlers.
//! The policy table itself is [`crate::domain::authz`].

pub mod csrf;
pub mod login;
pub mod password;
pub mod principal;
pub mod resolve;

pub use principal::{Actor, CurrentPrincipal, Principal};
