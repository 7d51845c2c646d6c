//! A local QuickBooks Online: OAuth 2.0 (consent page, token, revoke), the v3 accounting API
//! (entities, query, batch, CDC, `requestid` replay), Intuit's throttles and fault bodies,
//! webhooks (legacy and CloudEvents, signed, retried on Intuit's schedule), fault injection,
//! and a read-only page for people. Every rule follows `shared/reference/quickbooks-online.md`.
//!
//! Routes (the real hosts differ; the paths are Intuit's):
//! - `GET|POST /connect/oauth2` — authorize / consent
//! - `POST /oauth2/v1/tokens/bearer`, `POST /v2/oauth2/tokens/revoke`
//! - `/v3/company/{realm}/…` — the API
//! - `GET /` — the read-only page; `POST /companies/{realm}/invoices/{id}/payments`
//! - `/_sandbox/…` — test and demo controls (fault injection, webhook target, stats)

mod address;
mod api;
pub mod clock;
mod discovery;
mod entities;
mod exchange;
pub mod fault;
pub mod limits;
mod oauth;
mod page;
mod preferences;
pub mod query;
mod store;
mod terms;
mod void;
mod webhooks;

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqlitePool;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::server::sandbox::guard::{self, Guard};
pub use crate::server::sandbox::SandboxHandle;

pub use limits::Limits;
pub use webhooks::WebhookFormat;

/// The companies a fresh sandbox holds: (realm id, name).
pub const DEFAULT_COMPANIES: [(&str, &str); 2] = [
    ("9341453050298471", "Sandbox Company US 1"),
    ("9341453050298472", "Northwind Distribution (sandbox)"),
];

/// How the sandbox is set up.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Its SQLite file.
    pub db_path: PathBuf,
    /// The OAuth app it accepts.
    pub client_id: String,
    /// The app's secret.
    pub client_secret: SecretString,
    /// The webhook verifier token it signs with.
    pub verifier_token: SecretString,
    /// Where webhooks go (None: not sent until set through the control API).
    pub webhook_url: Option<String>,
    /// Payload format of the app's webhooks.
    pub webhook_format: WebhookFormat,
    /// Throttles.
    pub limits: Limits,
    /// Access-token lifetime (Intuit: 3600 s).
    pub access_token_ttl: chrono::TimeDelta,
    /// A refresh returns a new refresh token only when the old one is at least this old
    /// (Intuit: about 24 h, [UNCONFIRMED exact rule]); zero rotates on every refresh.
    pub rotate_refresh_after: chrono::TimeDelta,
    /// Companies created when missing.
    pub companies: Vec<(String, String)>,
    /// Redirect URIs accepted besides loopback ones (as registered in Intuit's developer portal).
    pub redirect_uris: Vec<String>,
    /// The control token; when the sandbox listens beyond loopback and none is given, one is
    /// made up and printed at start.
    pub control_token: Option<SecretString>,
}

impl SandboxConfig {
    /// Intuit's defaults, with the given file and app credentials.
    pub fn new(
        db_path: PathBuf,
        client_id: &str,
        client_secret: &str,
        verifier_token: &str,
    ) -> Self {
        SandboxConfig {
            db_path,
            client_id: client_id.to_string(),
            client_secret: SecretString::from(client_secret),
            verifier_token: SecretString::from(verifier_token),
            webhook_url: None,
            webhook_format: WebhookFormat::CloudEvents,
            limits: Limits::default(),
            access_token_ttl: chrono::TimeDelta::seconds(3600),
            rotate_refresh_after: chrono::TimeDelta::hours(24),
            companies: DEFAULT_COMPANIES
                .iter()
                .map(|(r, n)| (r.to_string(), n.to_string()))
                .collect(),
            redirect_uris: Vec::new(),
            control_token: None,
        }
    }
}

/// Fault injection, changed at run time through `POST /_sandbox/faults`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of API requests answered 500 (0.0–1.0).
    pub error_rate_5xx: f64,
    /// Share of API requests answered 429.
    pub error_rate_429: f64,
    /// Delay added to every API request, in milliseconds.
    pub latency_ms: u64,
    /// The next N writes are committed but their answer is withheld for `hang_ms`, so the
    /// caller times out not knowing the write happened.
    pub commit_then_timeout: u32,
    /// How long a withheld answer hangs (default 30 s).
    pub hang_ms: u64,
    /// Behave as issue QuickBooks-V3-DotNET-SDK#352 reports: ignore `requestid`.
    pub ignore_request_id: bool,
    /// Send every webhook POST twice.
    pub duplicate_webhooks: bool,
    /// Put a Retry-After (seconds) on 429 answers (Intuit sends none).
    pub retry_after_secs: Option<u64>,
    /// The next N updates find the record just changed by "another user" (its SyncToken moved
    /// on), so they fail with 5010 Stale Object.
    pub concurrent_edit_next: u32,
    /// Delay before the token endpoint answers, added after it has issued (and rotated) the
    /// tokens: a caller that stops waiting loses what was issued.
    pub token_latency_ms: u64,
}

/// Counters the tests and benchmarks read from `GET /_sandbox/stats`.
#[derive(Debug, Default)]
struct Stats {
    requests: std::sync::atomic::AtomicU64,
    throttled: std::sync::atomic::AtomicU64,
    withheld: std::sync::atomic::AtomicU64,
    batch_calls: std::sync::atomic::AtomicU64,
}

/// Where webhooks go.
#[derive(Clone, Debug)]
struct WebhookTarget {
    url: Option<String>,
    format: WebhookFormat,
}

struct Inner {
    db: SqlitePool,
    config: SandboxConfig,
    faults: RwLock<Faults>,
    limiter: limits::Limiter,
    limits: RwLock<Limits>,
    webhook: RwLock<WebhookTarget>,
    stats: Stats,
    wake: Notify,
    http: reqwest::Client,
}

/// The running sandbox's shared state.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl Sandbox {
    fn faults(&self) -> Faults {
        self.inner
            .faults
            .read()
            .map(|f| f.clone())
            .unwrap_or_default()
    }

    fn limits(&self) -> Limits {
        self.inner.limits.read().map(|l| *l).unwrap_or_default()
    }

    /// Uses up one "concurrent edit" if any is armed.
    fn take_concurrent_edit(&self) -> bool {
        let Ok(mut f) = self.inner.faults.write() else {
            return false;
        };
        if f.concurrent_edit_next == 0 {
            return false;
        }
        f.concurrent_edit_next -= 1;
        true
    }

    /// Uses up one "commit then time out" if any is armed.
    fn take_commit_then_timeout(&self) -> Option<std::time::Duration> {
        let mut f = self.inner.faults.write().ok()?;
        if f.commit_then_timeout == 0 {
            return None;
        }
        f.commit_then_timeout -= 1;
        self.inner
            .stats
            .withheld
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(std::time::Duration::from_millis(if f.hang_ms == 0 {
            30_000
        } else {
            f.hang_ms
        }))
    }
}

/// Opens the sandbox's file, creates missing companies, binds `bind` and starts serving.
pub async fn start(config: SandboxConfig, bind: SocketAddr) -> anyhow::Result<SandboxHandle> {
    let db = store::open(&config.db_path).await.with_context(|| {
        format!(
            "could not open the QuickBooks sandbox file {}",
            config.db_path.display()
        )
    })?;
    {
        let mut tx = db.begin().await?;
        let now = clock::now();
        for (realm, name) in &config.companies {
            store::insert_company(&mut tx, realm, name).await?;
            entities::seed_company(&mut tx, realm, now)
                .await
                .map_err(|f| anyhow::anyhow!("could not seed company {realm}: {f:?}"))?;
        }
        tx.commit().await?;
    }
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("the QuickBooks sandbox could not listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3)) // Intuit's webhook deadline
        .build()?;
    let sandbox = Sandbox {
        inner: Arc::new(Inner {
            db,
            faults: RwLock::new(Faults::default()),
            limiter: limits::Limiter::default(),
            limits: RwLock::new(config.limits),
            webhook: RwLock::new(WebhookTarget {
                url: config.webhook_url.clone(),
                format: config.webhook_format,
            }),
            stats: Stats::default(),
            wake: Notify::new(),
            http,
            config,
        }),
    };
    let control_token = match (&sandbox.inner.config.control_token, addr.ip().is_loopback()) {
        (Some(token), _) => Some(Arc::new(token.clone())),
        (None, true) => None,
        (None, false) => {
            let token = crate::server::crypto::random_secret();
            // Printed, not logged: it is for the person who started the sandbox.
            println!("QuickBooks sandbox control token (send as X-Sandbox-Token): {token}");
            Some(Arc::new(SecretString::from(token)))
        }
    };
    let app = router(sandbox.clone(), Guard { control_token });
    let mut handle = SandboxHandle::serve(listener, app, "QuickBooks")?;
    let sender = tokio::spawn(webhooks::run(sandbox.clone(), handle.stopping()));
    handle.also(sender);
    tracing::info!(base_url = %handle.base_url, "QuickBooks sandbox listening");
    Ok(handle)
}

/// The ERP's API (guarded by its own credentials, as Intuit's is), and the sandbox's pages,
/// forms and control routes behind [`guard::protect`].
fn router(sandbox: Sandbox, guard: Guard) -> Router {
    let controls = Router::new()
        .route("/", get(page::index))
        .route(
            "/companies/{realm}/invoices/{id}/payments",
            post(page::record_payment),
        )
        .route(
            "/connect/oauth2",
            get(oauth::authorize).post(oauth::consent),
        )
        .route("/_sandbox/faults", get(get_faults).post(set_faults))
        .route("/_sandbox/limits", post(set_limits))
        .route("/_sandbox/webhooks", post(set_webhooks))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/realms/{realm}/token", post(oauth::mint_token))
        .route("/_sandbox/realms/{realm}/revoke", post(oauth::revoke_realm))
        .layer(axum::middleware::from_fn_with_state(guard, guard::protect));
    Router::new()
        .merge(controls)
        .route("/oauth2/v1/tokens/bearer", post(oauth::token))
        .route(
            "/.well-known/openid_sandbox_configuration",
            get(discovery::document),
        )
        .route(
            "/.well-known/openid_sandbox_configuration/",
            get(discovery::document),
        )
        .route(
            "/.well-known/openid_configuration",
            get(discovery::document),
        )
        .route(
            "/.well-known/openid_configuration/",
            get(discovery::document),
        )
        .route("/v2/oauth2/tokens/revoke", post(oauth::revoke))
        .route(
            "/v3/company/{realm}/{entity}",
            get(api::get_collection).post(api::post_entity),
        )
        .route("/v3/company/{realm}/{entity}/{id}", get(api::read_entity))
        .layer(axum::middleware::map_response(intuit_tid))
        .with_state(sandbox)
}

/// Every Intuit response carries an `intuit_tid` for support (reference § 1, § 2).
async fn intuit_tid(mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("intuit_tid", v);
    }
    resp
}

async fn get_faults(State(s): State<Sandbox>) -> Json<Faults> {
    Json(s.faults())
}

async fn set_faults(State(s): State<Sandbox>, Json(f): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&f.error_rate_5xx) || !(0.0..=1.0).contains(&f.error_rate_429) {
        return (StatusCode::BAD_REQUEST, "error rates are between 0 and 1").into_response();
    }
    if let Ok(mut cur) = s.inner.faults.write() {
        *cur = f;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn set_limits(State(s): State<Sandbox>, Json(l): Json<Limits>) -> Response {
    if l.time_scale <= 0.0 || l.concurrent == 0 || l.per_minute == 0 || l.batch_per_minute == 0 {
        return (StatusCode::BAD_REQUEST, "limits must be positive").into_response();
    }
    if let Ok(mut cur) = s.inner.limits.write() {
        *cur = l;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct WebhookSettings {
    url: Option<String>,
    format: Option<WebhookFormat>,
}

async fn set_webhooks(State(s): State<Sandbox>, Json(w): Json<WebhookSettings>) -> Response {
    if let Some(url) = &w.url {
        if url::Url::parse(url).is_err() {
            return (StatusCode::BAD_REQUEST, "url is not a URL").into_response();
        }
    }
    if let Ok(mut cur) = s.inner.webhook.write() {
        cur.url = w.url;
        if let Some(f) = w.format {
            cur.format = f;
        }
    }
    s.inner.wake.notify_one();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(s): State<Sandbox>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let mut c = match s.inner.db.acquire().await {
        Ok(c) => c,
        Err(_) => return fault::Fail::System.into_response(),
    };
    let counters: serde_json::Map<String, serde_json::Value> = store::counters(&mut c)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE delivered = 0")
            .fetch_one(&mut *c)
            .await
            .unwrap_or(0);
    Json(json!({
        "requests": s.inner.stats.requests.load(Relaxed),
        "throttled": s.inner.stats.throttled.load(Relaxed),
        "withheld_answers": s.inner.stats.withheld.load(Relaxed),
        "batch_calls": s.inner.stats.batch_calls.load(Relaxed),
        "peak_concurrency": s.inner.limiter.peak_concurrency(),
        "webhooks_pending": pending,
        "counters": counters,
        "limits": s.limits(),
    }))
    .into_response()
}

/// `realm` exists?
async fn known_realm(s: &Sandbox, realm: &str) -> Result<bool, fault::Fail> {
    let mut c = s.inner.db.acquire().await?;
    Ok(store::company(&mut c, realm).await?.is_some())
}
