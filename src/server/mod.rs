//! Everything that runs only on the server: configuration, storage, authentication, services,
//! HTTP surfaces and background work.

pub mod auth;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod erp;
pub mod http;
pub mod outbox;
pub mod router;
pub mod sandbox;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
