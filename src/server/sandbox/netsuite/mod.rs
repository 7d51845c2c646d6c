//! A local NetSuite (SuiteTalk REST): accounts by id (`1234567_SB1`), OAuth 2.0 client
//! credentials with certificate-signed assertions and token-based authentication, the record
//! API for customers and sales orders, SuiteQL, NetSuite's error documents, its per-account concurrency
//! limit and fault injection. Every rule follows `shared/reference/netsuite.md`; where that says
//! UNCONFIRMED, the code says which choice it made.
//!
//! Routes (the real host is per account, `1234567-sb1.suitetalk.api.netsuite.com`; here one
//! host serves every account, which the credentials name):
//! - `POST /services/rest/auth/oauth2/v1/token`
//! - `/services/rest/record/v1/{type}[/{id | eid:…}]`
//! - `POST /services/rest/query/v1/suiteql`
//! - `GET /` — a read-only page: each account's customers and sales orders, the login audit trail
//! - `/_sandbox/…` — controls: register an M2M certificate or a TBA token for an account, read
//!   the login audit trail, inject faults, set the concurrency limit, counters

mod auth;
mod fault;
mod page;
mod records;
mod rules;
mod schema;
mod store;
mod suiteql;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::server::sandbox::guard::{self, Guard};
use crate::server::sandbox::SandboxHandle;
use fault::Fail;

pub use auth::TOKEN_PATH;

/// The accounts a fresh sandbox holds: (account id, name, OneWorld).
pub const DEFAULT_ACCOUNTS: [(&str, &str, bool); 2] = [
    ("1234567_SB1", "Northwind Wholesale (sandbox)", false),
    ("7654321_SB2", "Contoso Group (OneWorld sandbox)", true),
];

/// The sandbox's clock (UTC).
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// How the sandbox is set up.
#[derive(Clone, Debug)]
pub struct NetSuiteSandboxConfig {
    /// Its SQLite file.
    pub db_path: PathBuf,
    /// Accounts created when missing.
    pub accounts: Vec<(String, String, bool)>,
    /// Concurrent requests per account (NetSuite's base limit for most accounts: 5).
    pub concurrency: u32,
    /// Bearer token lifetime (NetSuite: 60 minutes).
    pub access_token_ttl: chrono::TimeDelta,
    /// The control token; when the sandbox listens beyond loopback and none is given, one is
    /// made up and printed at start.
    pub control_token: Option<SecretString>,
    /// TBA tokens registered at start (the demo's).
    pub tba_tokens: Vec<TbaSeed>,
}

/// A TBA token (with its integration's consumer) registered at start.
#[derive(Clone, Debug)]
pub struct TbaSeed {
    /// The account it opens.
    pub account: String,
    /// The integration's consumer key.
    pub consumer_key: String,
    /// The integration's consumer secret.
    pub consumer_secret: SecretString,
    /// The token's id.
    pub token_id: String,
    /// The token's secret.
    pub token_secret: SecretString,
}

impl NetSuiteSandboxConfig {
    /// NetSuite's defaults, with the given file.
    pub fn new(db_path: PathBuf) -> Self {
        NetSuiteSandboxConfig {
            db_path,
            accounts: DEFAULT_ACCOUNTS
                .iter()
                .map(|(a, n, o)| (a.to_string(), n.to_string(), *o))
                .collect(),
            concurrency: 5,
            access_token_ttl: chrono::TimeDelta::minutes(60),
            control_token: None,
            tba_tokens: Vec::new(),
        }
    }
}

/// Fault injection, changed at run time through `POST /_sandbox/faults`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of API requests answered 500 `UNEXPECTED_ERROR` (0.0–1.0).
    pub error_rate_5xx: f64,
    /// Delay added to every API request, in milliseconds (holding its concurrency slot).
    pub latency_ms: u64,
}

struct Inner {
    db: SqlitePool,
    config: NetSuiteSandboxConfig,
    faults: RwLock<Faults>,
    concurrency: RwLock<u32>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    requests: AtomicU64,
    throttled: AtomicU64,
}

/// The running sandbox's shared state.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

/// An admitted API call: its account, holding one of the account's concurrency slots.
pub struct Call {
    /// The account the credentials opened.
    pub account: String,
    _slot: OwnedSemaphorePermit,
}

impl Sandbox {
    /// Lets an API call in: its credentials, then a free concurrency slot of its account
    /// (NetSuite refuses the excess at once with 429, it does not queue), then injected faults.
    async fn enter(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Call, Fail> {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let account = auth::caller(self, method, uri, headers).await?;
        let slots = {
            let limit = self.inner.concurrency.read().map(|l| *l).unwrap_or(5);
            let mut map = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(account.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(limit.max(1) as usize)))
                .clone()
        };
        let Ok(slot) = slots.try_acquire_owned() else {
            self.inner.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(Fail::ConcurrencyLimit);
        };
        let faults = self
            .inner
            .faults
            .read()
            .map(|f| f.clone())
            .unwrap_or_default();
        if faults.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
        }
        if faults.error_rate_5xx > 0.0 && rand::random::<f64>() < faults.error_rate_5xx {
            return Err(Fail::Unexpected);
        }
        Ok(Call {
            account,
            _slot: slot,
        })
    }
}

/// Opens the sandbox's file, creates missing accounts, binds `bind` and starts serving.
pub async fn start(
    config: NetSuiteSandboxConfig,
    bind: SocketAddr,
) -> anyhow::Result<SandboxHandle> {
    let db = store::open(&config.db_path).await.with_context(|| {
        format!(
            "could not open the NetSuite sandbox file {}",
            config.db_path.display()
        )
    })?;
    {
        let mut tx = db.begin().await?;
        for (account, name, one_world) in &config.accounts {
            let a = store::Account {
                account: account.clone(),
                name: name.clone(),
                one_world: *one_world,
            };
            store::insert_account(&mut tx, &a).await?;
            rules::seed(&mut tx, &a)
                .await
                .map_err(|f| anyhow::anyhow!("could not seed account {account}: {f:?}"))?;
        }
        for t in &config.tba_tokens {
            use secrecy::ExposeSecret;
            let token = store::TbaToken {
                token_id: t.token_id.clone(),
                account: t.account.clone(),
                consumer_key: t.consumer_key.clone(),
                consumer_secret: t.consumer_secret.expose_secret().to_string(),
                token_secret: t.token_secret.expose_secret().to_string(),
            };
            store::put_tba_token(&mut tx, &token).await?;
        }
        tx.commit().await?;
    }
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("the NetSuite sandbox could not listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let control_token = match (&config.control_token, addr.ip().is_loopback()) {
        (Some(token), _) => Some(Arc::new(token.clone())),
        (None, true) => None,
        (None, false) => {
            let token = crate::server::crypto::random_secret();
            // Printed, not logged: it is for the person who started the sandbox.
            println!("NetSuite sandbox control token (send as X-Sandbox-Token): {token}");
            Some(Arc::new(SecretString::from(token)))
        }
    };
    let sandbox = Sandbox {
        inner: Arc::new(Inner {
            db,
            faults: RwLock::new(Faults::default()),
            concurrency: RwLock::new(config.concurrency),
            slots: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            config,
        }),
    };
    let app = router(sandbox, Guard { control_token });
    let handle = SandboxHandle::serve(listener, app, "NetSuite")?;
    tracing::info!(base_url = %handle.base_url, "NetSuite sandbox listening");
    Ok(handle)
}

fn router(sandbox: Sandbox, guard: Guard) -> Router {
    let controls = Router::new()
        .route("/", get(page::index))
        .route("/_sandbox/faults", get(get_faults).post(set_faults))
        .route("/_sandbox/limits", post(set_limits))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/audit", get(audit_trail))
        .route(
            "/_sandbox/accounts/{account}/certificates",
            post(register_certificate),
        )
        .route("/_sandbox/accounts/{account}/tba", post(register_tba))
        .route(
            "/_sandbox/accounts/{account}/revoke-tokens",
            post(revoke_tokens),
        )
        .layer(axum::middleware::from_fn_with_state(guard, guard::protect));
    Router::new()
        .merge(controls)
        .route(TOKEN_PATH, post(auth::token))
        .route(suiteql::PATH, post(suiteql::query))
        .route("/services/rest/record/v1/{type}", post(records::create))
        .route(
            "/services/rest/record/v1/{type}/{id}",
            get(records::read)
                .patch(records::update)
                .put(records::upsert)
                .delete(records::remove),
        )
        .with_state(sandbox)
}

async fn get_faults(State(s): State<Sandbox>) -> Json<Faults> {
    Json(s.inner.faults.read().map(|f| f.clone()).unwrap_or_default())
}

async fn set_faults(State(s): State<Sandbox>, Json(f): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&f.error_rate_5xx) {
        return (StatusCode::BAD_REQUEST, "error rates are between 0 and 1").into_response();
    }
    if let Ok(mut cur) = s.inner.faults.write() {
        *cur = f;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct LimitsBody {
    concurrency: u32,
}

async fn set_limits(State(s): State<Sandbox>, Json(l): Json<LimitsBody>) -> Response {
    if l.concurrency == 0 {
        return (StatusCode::BAD_REQUEST, "concurrency must be positive").into_response();
    }
    if let Ok(mut cur) = s.inner.concurrency.write() {
        *cur = l.concurrency;
    }
    // New slots per account on the next call.
    s.inner
        .slots
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(s): State<Sandbox>) -> Json<serde_json::Value> {
    Json(json!({
        "requests": s.inner.requests.load(Ordering::Relaxed),
        "throttled": s.inner.throttled.load(Ordering::Relaxed),
    }))
}

async fn audit_trail(State(s): State<Sandbox>) -> Response {
    let lines = async {
        let mut c = s.inner.db.acquire().await?;
        store::audit_trail(&mut c, 200).await
    };
    match lines.await {
        Ok(lines) => Json(lines).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct CertificateBody {
    certificate_id: String,
    client_id: String,
    certificate_pem: String,
}

/// Registers an M2M certificate for an account, as an Admin does on NetSuite's M2M setup page.
async fn register_certificate(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
    Json(b): Json<CertificateBody>,
) -> Response {
    if let Err(why) = crate::server::erp::netsuite::m2m::certificate_expiry(&b.certificate_pem) {
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    if b.certificate_id.trim().is_empty() || b.client_id.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "certificate_id and client_id are required",
        )
            .into_response();
    }
    let cert = store::Certificate {
        account: account.clone(),
        certificate_id: b.certificate_id,
        client_id: b.client_id,
        certificate_pem: b.certificate_pem,
    };
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        if store::account(&mut c, &account).await?.is_none() {
            return Ok(false);
        }
        store::put_certificate(&mut c, &cert).await.map(|_| true)
    };
    registered(done.await, &account)
}

#[derive(Deserialize)]
struct TbaBody {
    consumer_key: String,
    consumer_secret: String,
    token_id: String,
    token_secret: String,
}

/// Registers a TBA token (with its integration's consumer) for an account.
async fn register_tba(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
    Json(b): Json<TbaBody>,
) -> Response {
    if [
        &b.consumer_key,
        &b.consumer_secret,
        &b.token_id,
        &b.token_secret,
    ]
    .iter()
    .any(|v| v.trim().is_empty())
    {
        return (StatusCode::BAD_REQUEST, "all four TBA values are required").into_response();
    }
    let token = store::TbaToken {
        token_id: b.token_id,
        account: account.clone(),
        consumer_key: b.consumer_key,
        consumer_secret: b.consumer_secret,
        token_secret: b.token_secret,
    };
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        if store::account(&mut c, &account).await?.is_none() {
            return Ok(false);
        }
        store::put_tba_token(&mut c, &token).await.map(|_| true)
    };
    registered(done.await, &account)
}

/// Revokes the account's bearer tokens: the next call with one gets the generic 401.
async fn revoke_tokens(State(s): State<Sandbox>, Path(account): Path<String>) -> Response {
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        store::revoke_access_tokens(&mut c, &account).await
    };
    match done.await {
        Ok(n) => Json(json!({ "revoked": n })).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}

/// 204 when registered, 404 for an unknown account.
fn registered(done: store::DbResult<bool>, account: &str) -> Response {
    match done {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, format!("no account {account}")).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}
