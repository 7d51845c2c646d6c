//! Leptos views: pages (one per route) and the components they share.

pub mod components;
pub mod pages;
