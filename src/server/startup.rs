//! Start-up: settings → database (connect + migrate) → state → router → listener, and the serve
//! loop with graceful shutdown. `main` and the integration tests both start the app here.

use anyhow::{bail, Context};
use leptos::config::{get_configuration, LeptosOptions};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;

use super::config::ServeArgs;
use super::crypto::{Cipher, DEMO_MASTER_KEY};
use super::erp::inbound::{self, InboundConfig};
use super::erp::quickbooks::config::{Endpoints, Environment, Pacing, QboSettings};
use super::erp::quickbooks::connector::QuickBooks;
use super::erp::Adapters;
use super::http::source::TrustedProxies;
use super::outbox::maintenance::{self, RetentionConfig};
use super::outbox::worker::{OutboxWorker, WorkerConfig};
use super::service::sign_in::SignInPolicy;
use super::state::{AppState, RuntimeConfig};
use super::store::session_store::AppSessionStore;
use super::store::Db;
use super::{router, telemetry};
use crate::domain::connection::Provider;

/// Everything `serve` needs, independent of where it came from (CLI, environment, a test).
#[derive(Clone, Debug)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// PostgreSQL pool size.
    pub max_connections: u32,
    /// Master key (base64 of 32 bytes); required unless `demo`.
    pub master_key: Option<SecretString>,
    /// Id stored beside ciphertexts.
    pub master_key_id: String,
    /// Listen address (port 0 picks a free port).
    pub bind: SocketAddr,
    /// Public origin; default `http://{bind}`.
    pub public_url: Option<String>,
    /// Session idle timeout.
    pub session_idle: chrono::TimeDelta,
    /// Failed sign-ins before lock-out.
    pub login_max_failures: i64,
    /// Lock-out duration.
    pub login_lockout: chrono::TimeDelta,
    /// Sign-in attempts per minute per source.
    pub login_source_limit_per_minute: i64,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: TrustedProxies,
    /// Demo mode.
    pub demo: bool,
    /// Where the browser assets are; default from Leptos.toml.
    pub site_root: Option<String>,
    /// Run the outbox worker in this process.
    pub worker_enabled: bool,
    /// Outbox worker settings.
    pub worker: WorkerConfig,
    /// Retention settings.
    pub retention: RetentionConfig,
    /// Intuit's webhook verifier token.
    pub qbo_webhook_verifier_token: Option<SecretString>,
    /// Signed webhook requests accepted per second from one source (burst the same).
    pub webhook_rate_per_second: u32,
    /// The QuickBooks connector (None: not configured).
    pub qbo: Option<QboSettings>,
    /// Run the inbound workers (QuickBooks webhook events and CDC pulls, NetSuite watermark
    /// pulls) in this process.
    pub inbound_enabled: bool,
    /// Every NetSuite account's base URL (an erp-bridge sandbox); None: each account's own host.
    pub netsuite_base_url: Option<String>,
    /// Inbound worker settings.
    pub inbound: InboundConfig,
}

impl Settings {
    /// Settings from `serve`'s arguments.
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<Self> {
        Ok(Settings {
            database_url: args.db.url(),
            max_connections: args.db.max_connections,
            master_key: args.master_key.clone(),
            master_key_id: args.master_key_id.clone(),
            bind: args.bind,
            public_url: args.public_url.clone(),
            session_idle: chrono::TimeDelta::minutes(args.session_idle_minutes.max(1)),
            login_max_failures: args.login_max_failures.max(1),
            login_lockout: chrono::TimeDelta::seconds(args.login_lockout_seconds.max(1)),
            login_source_limit_per_minute: args.login_source_limit_per_minute.max(1),
            trusted_proxies: TrustedProxies::parse(&args.trusted_proxies)
                .map_err(anyhow::Error::msg)?,
            demo: args.demo,
            site_root: args.site_root.clone(),
            worker_enabled: !args.no_worker,
            worker: WorkerConfig {
                batch_size: args.outbox_batch_size.clamp(1, 5000),
                poll_interval: std::time::Duration::from_millis(args.outbox_poll_ms.max(10)),
                lease_ttl: chrono::TimeDelta::seconds(args.outbox_lease_seconds.clamp(5, 3600)),
                event_deadline: std::time::Duration::from_secs(
                    args.outbox_event_deadline_seconds.clamp(1, 600),
                ),
                backoff_unit: std::time::Duration::from_millis(
                    args.outbox_retry_unit_ms.clamp(10, 3_600_000),
                ),
                ..WorkerConfig::default()
            },
            retention: RetentionConfig {
                completed_outbox: chrono::TimeDelta::days(args.retention_outbox_days.max(1)),
                payloads: chrono::TimeDelta::days(args.payload_scrub_days.max(1)),
                logs: chrono::TimeDelta::days(args.retention_log_days.max(1)),
                webhook_receipts: chrono::TimeDelta::days(args.retention_webhook_days.max(1)),
                inbox: chrono::TimeDelta::days(args.retention_inbox_days.max(1)),
                audit: chrono::TimeDelta::days(args.retention_audit_days.max(1)),
                ..RetentionConfig::default()
            },
            qbo_webhook_verifier_token: args.qbo_webhook_verifier_token.clone().or_else(|| {
                args.demo
                    .then(|| SecretString::from(super::demo::DEMO_QBO_WEBHOOK_VERIFIER_TOKEN))
            }),
            webhook_rate_per_second: args.webhook_rate_per_second,
            qbo: qbo_settings(args)?,
            inbound_enabled: !args.qbo.qbo_no_inbound,
            inbound: InboundConfig::default(),
            netsuite_base_url: args.netsuite_base_url.clone().or_else(|| {
                args.demo
                    .then(|| format!("http://{}", args.sandbox.netsuite_sandbox_bind))
            }),
        })
    }
}

/// The QuickBooks settings in force: explicit flags and variables first; demo mode fills in the
/// fixed demo app and its sandbox. Without a client id (outside demo mode) QuickBooks is off.
fn qbo_settings(args: &ServeArgs) -> anyhow::Result<Option<QboSettings>> {
    let q = &args.qbo;
    let client_id = q.qbo_client_id.clone().or_else(|| {
        args.demo
            .then(|| super::demo::DEMO_QBO_CLIENT_ID.to_string())
    });
    let Some(client_id) = client_id else {
        return Ok(None);
    };
    let Some(secret) = q.qbo_client_secret.clone().or_else(|| {
        args.demo
            .then(|| SecretString::from(super::demo::DEMO_QBO_CLIENT_SECRET))
    }) else {
        bail!("QBO_CLIENT_ID is set but QBO_CLIENT_SECRET is not: set both (developer portal → Keys & credentials)");
    };
    let env = q.qbo_environment.unwrap_or(if args.demo {
        Environment::Emulator
    } else {
        Environment::Production
    });
    let emulator_url = q.qbo_emulator_url.clone().or_else(|| {
        args.demo
            .then(|| format!("http://{}", args.sandbox.sandbox_bind))
    });
    let Some(endpoints) = Endpoints::for_environment(env, emulator_url.as_deref()) else {
        bail!("QBO_ENVIRONMENT=emulator needs QBO_EMULATOR_URL (the base URL of an `erp-bridge sandbox`)");
    };
    let mut s = QboSettings::new(&client_id, secret, endpoints);
    s.redirect_uri = q.qbo_redirect_uri.clone();
    s.pacing = Pacing {
        per_window: q.qbo_requests_per_minute.max(1),
        concurrency: q.qbo_concurrency.max(1),
        batch_per_window: q.qbo_batch_per_minute.max(1),
        window: std::time::Duration::from_millis(q.qbo_pace_window_ms.max(1)),
    };
    s.throttle_wait =
        std::time::Duration::from_secs_f64(q.qbo_throttle_wait_seconds.clamp(0.001, 3600.0));
    s.request_timeout = std::time::Duration::from_secs(q.qbo_request_timeout_seconds.max(1));
    Ok(Some(s))
}

/// A built application, bound to its port, ready to serve.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    settings: Settings,
    adapters: Adapters,
}

impl Application {
    /// Connects and migrates the database, builds the state and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_adapters(settings, Adapters::new()).await
    }

    /// Like [`Application::build`], delivering outbox events through `adapters`.
    pub async fn build_with_adapters(
        settings: Settings,
        adapters: Adapters,
    ) -> anyhow::Result<Application> {
        let mut adapters = adapters;
        let cipher = master_cipher(&settings)?;
        let db = Db::connect(&settings.database_url, settings.max_connections)
            .await
            .with_context(|| {
                format!(
                    "could not connect to the database at {}",
                    redact_url(&settings.database_url)
                )
            })?;
        db.migrate()
            .await
            .context("could not apply database migrations")?;
        let sessions = AppSessionStore::for_db(&db)
            .await
            .context("could not prepare the session store")?;
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("could not listen on {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let public_origin = settings
            .public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        let qbo = match &settings.qbo {
            Some(q) => {
                let mut q = q.clone();
                if q.redirect_uri.is_none() {
                    q.redirect_uri = Some(format!(
                        "{public_origin}/api/integrations/quickbooks/callback"
                    ));
                }
                let client = super::erp::quickbooks::client::QboClient::new(q)
                    .context("could not build the QuickBooks client")?;
                let connector = QuickBooks::new(db.clone(), cipher.clone(), client);
                if adapters.get(Provider::QuickBooks).is_none() {
                    adapters = adapters.with(Provider::QuickBooks, Arc::new(connector.clone()));
                }
                Some(connector)
            }
            None => None,
        };
        let netsuite = super::erp::netsuite::connector::NetSuite {
            client: super::erp::netsuite::client::NetSuiteClient::new(Default::default())
                .map_err(|e| anyhow::anyhow!("could not build the NetSuite client: {e}"))?,
            base_url: settings.netsuite_base_url.clone(),
            cipher: cipher.clone(),
        };
        if adapters.get(Provider::NetSuite).is_none() {
            let adapter =
                super::erp::netsuite::adapter::NetSuiteAdapter::new(netsuite.clone(), db.clone());
            adapters = adapters.with(Provider::NetSuite, Arc::new(adapter));
        }
        let config = RuntimeConfig {
            secure_cookies: public_origin.starts_with("https://"),
            public_origin,
            session_idle: settings.session_idle,
            sign_in: SignInPolicy {
                max_failures: settings.login_max_failures,
                lockout: settings.login_lockout,
                per_source_per_minute: settings.login_source_limit_per_minute,
            },
            trusted_proxies: settings.trusted_proxies.clone(),
            demo: settings.demo,
            qbo_webhook_verifier_token: settings.qbo_webhook_verifier_token.clone(),
        };
        let per_second = std::num::NonZeroU32::new(settings.webhook_rate_per_second.max(1))
            .unwrap_or(std::num::NonZeroU32::MIN);
        let webhook_limiter = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_second(
            per_second,
        )));
        let inbox_writer = super::service::webhooks::InboxWriter::start(db.clone());
        let state = AppState {
            db,
            inbox_writer,
            config: Arc::new(config),
            leptos_options: leptos_options(addr, settings.site_root.as_deref())?,
            metrics: telemetry::metrics_handle(),
            sessions,
            cipher,
            webhook_limiter,
            webhook_refusals: Default::default(),
            qbo,
            netsuite: Some(netsuite),
        };
        Ok(Application {
            listener,
            state,
            settings,
            adapters,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (tests use it to reach the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes the pools.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sessions = self.state.sessions.clone();
        let cleanup = tokio::spawn(
            sessions.continuously_delete_expired(tokio::time::Duration::from_secs(600)),
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = self.settings.worker_enabled.then(|| {
            let worker = OutboxWorker::new(
                self.state.db.clone(),
                self.adapters.clone(),
                self.settings.worker.clone(),
            );
            tokio::spawn(worker.run(stop_rx.clone()))
        });
        let inbound = match (&self.state.qbo, self.settings.inbound_enabled) {
            (Some(qb), true) => Some(tokio::spawn(inbound::run(
                qb.clone(),
                self.settings.inbound.clone(),
                stop_rx.clone(),
            ))),
            _ => None,
        };
        let netsuite_inbound = match (&self.state.netsuite, self.settings.inbound_enabled) {
            (Some(ns), true) => Some(tokio::spawn(inbound::run(
                super::erp::netsuite::inbound::NetSuiteInbound::new(
                    ns.clone(),
                    self.state.db.clone(),
                ),
                self.settings.inbound.clone(),
                stop_rx.clone(),
            ))),
            _ => None,
        };
        let checkpoints = {
            let (db, stop) = (self.state.db.clone(), stop_rx.clone());
            tokio::spawn(async move {
                db.run_sqlite_checkpoints(std::time::Duration::from_secs(1), stop)
                    .await
            })
        };
        let housekeeping = tokio::spawn(webhook_housekeeping(self.state.clone(), stop_rx.clone()));
        let retention = tokio::spawn(retention_loop(
            self.state.db.clone(),
            self.settings.retention.clone(),
            stop_rx,
        ));
        let app = router::build(self.state.clone());
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("server error");
        let _ = stop_tx.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        for inbound in [inbound, netsuite_inbound].into_iter().flatten() {
            let _ = inbound.await;
        }
        let _ = retention.await;
        let _ = housekeeping.await;
        let _ = checkpoints.await;
        cleanup.abort();
        served?;
        self.state.db.close().await;
        Ok(())
    }
}

/// Every two seconds, writes the counts of refused webhook POSTs and lets the per-source limiter
/// forget idle sources (its memory stays bounded); once more on the way out.
async fn webhook_housekeeping(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => false,
            _ = stop.changed() => true,
        } || *stop.borrow();
        if let Err(err) = state.webhook_refusals.flush(&state.db).await {
            tracing::warn!(error = %err, "could not write the refused-webhook counts; kept for the next try");
        }
        state.webhook_limiter.retain_recent();
        state.webhook_limiter.shrink_to_fit();
        if stopping {
            return;
        }
    }
}

/// Runs retention hourly until `stop` turns true.
async fn retention_loop(
    db: Db,
    cfg: RetentionConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match maintenance::run(&db, &cfg).await {
            Ok(report) => tracing::info!(?report, "retention run"),
            Err(err) => tracing::error!(error = %err, "retention run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// The master-key cipher; demo mode falls back to the published demo key.
fn master_cipher(settings: &Settings) -> anyhow::Result<Cipher> {
    let key = match (&settings.master_key, settings.demo) {
        (Some(key), _) => key.clone(),
        (None, true) => SecretString::from(DEMO_MASTER_KEY),
        (None, false) => bail!(
            "ERP_BRIDGE_MASTER_KEY is not set. It encrypts ERP tokens and credentials at rest and \
             must be base64 of 32 random bytes, e.g. `openssl rand -base64 32`. Keep it safe: \
             without it stored connections cannot be read. (`serve --demo` uses a published demo key.)"
        ),
    };
    Ok(Cipher::from_base64(&settings.master_key_id, &key)?)
}

/// Leptos settings from Leptos.toml when present (else LEPTOS_* variables), with our address.
fn leptos_options(addr: SocketAddr, site_root: Option<&str>) -> anyhow::Result<LeptosOptions> {
    let file = std::path::Path::new("Leptos.toml")
        .exists()
        .then_some("Leptos.toml");
    let mut options = get_configuration(file)
        .context("could not read the Leptos settings")?
        .leptos_options;
    options.site_addr = addr;
    if let Some(root) = site_root {
        options.site_root = root.into();
    }
    Ok(options)
}

/// A database URL without its password, for messages. Fails closed: a URL that cannot be
/// parsed is not shown at all.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparseable database URL>".to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("password") {
                    (k.into_owned(), "***".into())
                } else {
                    (k.into_owned(), v.into_owned())
                }
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_appear_in_database_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db/erp"),
            "postgres://app:***@db/erp"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            redact_url("postgres://db/erp?user=a&password=s3cret"),
            "postgres://db/erp?user=a&password=***"
        );
        assert_eq!(
            redact_url("not a url with s3cret"),
            "<unparseable database URL>"
        );
    }
}
