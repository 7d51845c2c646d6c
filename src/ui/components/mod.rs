//! Components shared by pages.

pub mod access;
pub mod error_box;
pub mod health;
pub mod layout;
pub mod notice;
pub mod payments;
pub mod sync_badges;
pub mod sync_now;
