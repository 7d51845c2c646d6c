//! Components shared by pages.

pub mod error_box;
pub mod layout;
pub mod sync_badges;
