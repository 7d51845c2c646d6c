//! The state every handler, server function and worker shares.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

use super::crypto::Cipher;
use super::store::session_store::AppSessionStore;
use super::store::Db;

/// Settings fixed at start-up that request handling needs.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The origin browsers use, e.g. `http://127.0.0.1:3000` (CSRF origin check).
    pub public_origin: String,
    /// Mark the session cookie `Secure` (the public origin is https).
    pub secure_cookies: bool,
    /// Idle time after which a session ends.
    pub session_idle: chrono::TimeDelta,
    /// Sign-in guards.
    pub sign_in: crate::server::service::sign_in::SignInPolicy,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: crate::server::http::source::TrustedProxies,
    /// Demo mode (fixed demo credentials; never with real data).
    pub demo: bool,
    /// Intuit's webhook verifier token (None: webhooks are refused with 503).
    pub qbo_webhook_verifier_token: Option<secrecy::SecretString>,
}

/// Shared application state (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState {
    /// Database pools.
    pub db: Db,
    /// Start-up settings.
    pub config: Arc<RuntimeConfig>,
    /// Leptos site settings.
    pub leptos_options: LeptosOptions,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Session store.
    pub sessions: AppSessionStore,
    /// Seals tokens and credentials at rest.
    pub cipher: Cipher,
    /// Caps signed webhook requests per second per source (configurable; benchmarks raise it).
    pub webhook_limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Counts refused webhook POSTs per (provider, minute, outcome).
    pub webhook_refusals: crate::server::service::webhooks::RefusalTally,
    /// Group-commit writer of webhook events.
    pub inbox_writer: crate::server::service::webhooks::InboxWriter,
    /// The QuickBooks connector, when configured.
    pub qbo: Option<crate::server::erp::quickbooks::connector::QuickBooks>,
    /// The NetSuite connector (accounts bring their own credentials).
    pub netsuite: Option<crate::server::erp::netsuite::connector::NetSuite>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
