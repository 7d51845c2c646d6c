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
mod billing;
mod controls;
pub mod demo_m2m;
mod fault;
mod page;
mod records;
mod rules;
mod schema;
mod show;
mod store;
mod suiteql;

use anyhow::Context;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, SubsecRound, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
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
    // Whole seconds, as NetSuite keeps `lastmodifieddate` (an Oracle DATE): a watermark read
    // with TO_CHAR(…, 'YYYY-MM-DD HH24:MI:SS') then names a row's time exactly.
    Utc::now().trunc_subsecs(0)
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
    /// Accounts given a demo M2M key pair at first start (see [`demo_m2m`]).
    pub demo_m2m_accounts: Vec<String>,
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
            demo_m2m_accounts: Vec::new(),
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
    /// "Commit then time out": the next this many record writes are saved, and then their
    /// answer is held for `lost_answer_ms` — longer than a client waits — as when NetSuite
    /// finishes a write whose caller has given up.
    pub lost_answers: u32,
    /// How long a lost answer is held (default two minutes).
    pub lost_answer_ms: Option<u64>,
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

impl Sandbox {
    /// Called after a record write committed: holds the answer when a lost answer is due.
    async fn after_commit(&self) {
        let hold = {
            let mut f = self.inner.faults.write().unwrap_or_else(|e| e.into_inner());
            if f.lost_answers == 0 {
                return;
            }
            f.lost_answers -= 1;
            f.lost_answer_ms.unwrap_or(120_000)
        };
        tracing::info!(
            hold_ms = hold,
            "NetSuite sandbox: a committed write's answer is held back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
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
        for account in &config.demo_m2m_accounts {
            demo_m2m::ensure(&mut tx, account)
                .await
                .with_context(|| format!("could not equip {account} with demo M2M keys"))?;
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
        .route(
            "/_sandbox/faults",
            get(controls::get_faults).post(controls::set_faults),
        )
        .route("/_sandbox/limits", post(controls::set_limits))
        .route("/_sandbox/stats", get(controls::stats))
        .route("/_sandbox/audit", get(controls::audit_trail))
        .route(
            "/_sandbox/accounts/{account}/certificates",
            post(controls::register_certificate),
        )
        .route(
            "/_sandbox/accounts/{account}/tba",
            post(controls::register_tba),
        )
        .route(
            "/_sandbox/accounts/{account}/revoke-tokens",
            post(controls::revoke_tokens),
        )
        .route("/_sandbox/accounts/{account}/demo-m2m", get(demo_m2m::show))
        .route(
            "/_sandbox/accounts/{account}/sales-orders/{id}/bill",
            post(billing::routes::bill),
        )
        .route(
            "/_sandbox/accounts/{account}/invoices/{id}/payments",
            post(billing::routes::pay),
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
        .route(
            "/services/rest/record/v1/{type}/{id}/!transform/{target}",
            post(records::transform),
        )
        .with_state(sandbox)
}
