//! Command line and configuration: one clap definition drives flags, environment fallbacks and
//! `--help`. Secrets are read into `secrecy` types and never printed.

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::net::SocketAddr;

/// The SQLite database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/erp-bridge.db";

/// erp-bridge: keeps QuickBooks Online and NetSuite in step with your commerce platform.
#[derive(Debug, Parser)]
#[command(name = "erp-bridge", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once at start-up: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the UI, server functions, JSON API, OAuth callbacks and webhooks.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Run the local ERP sandboxes alone — QuickBooks Online (OAuth, API, webhooks) and NetSuite
    /// (M2M and TBA, records, SuiteQL), or one of them with --erp — e.g. as the ERPs of
    /// a test or a second erp-bridge process.
    Sandbox(SandboxCommandArgs),
}

/// Database selection.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    /// Default sqlite://data/erp-bridge.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Maximum PostgreSQL pool size (SQLite uses one writer and a few readers).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,
}

impl DbArgs {
    /// The URL in force: the explicit one, or the default SQLite file.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
    }
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Demo mode: ./data/erp-bridge.db (unless DATABASE_URL is set), a fixed demo master key,
    /// a seeded demo tenant with one user per role whose credentials are printed at start-up.
    /// Never use demo mode with real data.
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DbArgs,
    /// AES-256-GCM master key for tokens and credentials at rest: 32 bytes, base64.
    /// Required outside demo mode. Generate one with `openssl rand -base64 32`.
    #[arg(long, env = "ERP_BRIDGE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<SecretString>,
    /// Identifier stored beside every ciphertext, so keys can be rotated.
    #[arg(long, env = "ERP_BRIDGE_MASTER_KEY_ID", default_value = "k1")]
    pub master_key_id: String,
    /// The public origin browsers use (e.g. https://erp.example.com). Origin checks compare
    /// against it; an https origin also marks the session cookie Secure. Default: http://BIND_ADDR.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Sign a session out after this many minutes without a request.
    #[arg(long, env = "SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: i64,
    /// Failed sign-ins in a row, per (account, source), before that pair is blocked.
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: i64,
    /// How long an (account, source) pair is blocked after LOGIN_MAX_FAILURES failures, in
    /// seconds; each further failure doubles it (at most a day).
    #[arg(long, env = "LOGIN_LOCKOUT_SECONDS", default_value_t = 300)]
    pub login_lockout_seconds: i64,
    /// Sign-in attempts per minute from one source address (an IPv6 /64); successes are not
    /// counted.
    #[arg(long, env = "LOGIN_SOURCE_LIMIT_PER_MINUTE", default_value_t = 30)]
    pub login_source_limit_per_minute: i64,
    /// Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR
    /// blocks. Empty: the peer address is the source.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Log format: pretty or json (LOG_FORMAT). Log level: RUST_LOG (default info).
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
    /// Directory the browser assets (wasm, js, css) are served from; defaults to Leptos.toml's site-root.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<String>,
    /// Do not run the outbox worker in this process (another process delivers).
    #[arg(long, env = "OUTBOX_DISABLED")]
    pub no_worker: bool,
    /// Outbox events claimed per (tenant, provider) per pass.
    #[arg(long, env = "OUTBOX_BATCH_SIZE", default_value_t = 200)]
    pub outbox_batch_size: i64,
    /// Milliseconds the outbox worker sleeps when it found nothing to do.
    #[arg(long, env = "OUTBOX_POLL_MS", default_value_t = 500)]
    pub outbox_poll_ms: u64,
    /// Seconds an outbox lease (and a claimed row) lasts without a heartbeat: how soon another
    /// process takes over the work of one that died.
    #[arg(long, env = "OUTBOX_LEASE_SECONDS", default_value_t = 30)]
    pub outbox_lease_seconds: i64,
    /// Seconds one delivery (or one bulk call) may take before it counts as timed out.
    #[arg(long, env = "OUTBOX_EVENT_DEADLINE_SECONDS", default_value_t = 45)]
    pub outbox_event_deadline_seconds: u64,
    /// The retry backoff's unit in milliseconds: the n-th retry waits about 2^n units.
    #[arg(long, env = "OUTBOX_RETRY_UNIT_MS", default_value_t = 60_000)]
    pub outbox_retry_unit_ms: u64,
    /// Days completed outbox rows are kept.
    #[arg(long, env = "RETENTION_OUTBOX_DAYS", default_value_t = 30)]
    pub retention_outbox_days: i64,
    /// Days after which stored sync payloads are cleared of personal data.
    #[arg(long, env = "PAYLOAD_SCRUB_DAYS", default_value_t = 90)]
    pub payload_scrub_days: i64,
    /// Intuit's webhook verifier token (developer portal → Webhooks). Demo mode uses a fixed one.
    #[arg(long, env = "QBO_WEBHOOK_VERIFIER_TOKEN", hide_env_values = true)]
    pub qbo_webhook_verifier_token: Option<SecretString>,
    /// Signed webhook requests accepted per second from one source before answering 429.
    #[arg(long, env = "WEBHOOK_RATE_LIMIT", default_value_t = 200)]
    pub webhook_rate_per_second: u32,
    /// Days sync logs are kept.
    #[arg(long, env = "RETENTION_LOG_DAYS", default_value_t = 365)]
    pub retention_log_days: i64,
    /// Days webhook receipts (and the per-minute counts of refused webhook POSTs) are kept.
    #[arg(long, env = "RETENTION_WEBHOOK_DAYS", default_value_t = 30)]
    pub retention_webhook_days: i64,
    /// Days finished inbox events are kept (their event ids dedupe re-deliveries until then).
    #[arg(long, env = "RETENTION_INBOX_DAYS", default_value_t = 30)]
    pub retention_inbox_days: i64,
    /// Days audit events are kept.
    #[arg(long, env = "RETENTION_AUDIT_DAYS", default_value_t = 730)]
    pub retention_audit_days: i64,
    /// QuickBooks Online.
    #[command(flatten)]
    pub qbo: QboArgs,
    /// Every NetSuite account's SuiteTalk base URL, for an erp-bridge NetSuite sandbox (demo mode
    /// starts one and uses it). Unset: each account's own host, 1234567-sb1.suitetalk.api.netsuite.com.
    #[arg(long, env = "NETSUITE_BASE_URL")]
    pub netsuite_base_url: Option<String>,
    /// The sandboxes `--demo` starts.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// QuickBooks Online connector settings. Without a client id (and outside demo mode) the
/// QuickBooks connector is off.
#[derive(Debug, Clone, Args)]
pub struct QboArgs {
    /// OAuth client id of your Intuit app (developer portal → Keys & credentials).
    #[arg(long, env = "QBO_CLIENT_ID")]
    pub qbo_client_id: Option<String>,
    /// OAuth client secret of your Intuit app.
    #[arg(long, env = "QBO_CLIENT_SECRET", hide_env_values = true)]
    pub qbo_client_secret: Option<SecretString>,
    /// Redirect URI registered with Intuit. Default: PUBLIC_URL/api/integrations/quickbooks/callback.
    #[arg(long, env = "QBO_REDIRECT_URI")]
    pub qbo_redirect_uri: Option<String>,
    /// production, sandbox (Intuit's developer sandbox) or emulator (an erp-bridge sandbox at
    /// QBO_EMULATOR_URL). Default: production; emulator in demo mode.
    #[arg(long, env = "QBO_ENVIRONMENT", value_enum)]
    pub qbo_environment: Option<crate::server::erp::quickbooks::config::Environment>,
    /// Base URL of the erp-bridge QuickBooks sandbox when QBO_ENVIRONMENT=emulator
    /// (demo mode starts one and uses it).
    #[arg(long, env = "QBO_EMULATOR_URL")]
    pub qbo_emulator_url: Option<String>,
    /// Requests per pacing window and company (Intuit: 500 per minute).
    #[arg(long, env = "QBO_REQUESTS_PER_MINUTE", default_value_t = 500)]
    pub qbo_requests_per_minute: u32,
    /// Requests in flight per company (Intuit: 10).
    #[arg(long, env = "QBO_CONCURRENCY", default_value_t = 10)]
    pub qbo_concurrency: u32,
    /// Batch calls per pacing window and company (Intuit: 40 per minute).
    #[arg(long, env = "QBO_BATCH_PER_MINUTE", default_value_t = 40)]
    pub qbo_batch_per_minute: u32,
    /// Length of the pacing window in milliseconds (a minute; shorter only against a
    /// time-scaled sandbox).
    #[arg(long, env = "QBO_PACE_WINDOW_MS", default_value_t = 60_000)]
    pub qbo_pace_window_ms: u64,
    /// Seconds to wait after HTTP 429 when QuickBooks sends no Retry-After (Intuit says 60).
    #[arg(long, env = "QBO_THROTTLE_WAIT_SECONDS", default_value_t = 60.0)]
    pub qbo_throttle_wait_seconds: f64,
    /// Seconds before one QuickBooks HTTP call is abandoned.
    #[arg(long, env = "QBO_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub qbo_request_timeout_seconds: u64,
    /// Do not run the inbound workers (QuickBooks webhook events and CDC pulls, NetSuite
    /// watermark pulls) in this process.
    #[arg(long, env = "QBO_INBOUND_DISABLED")]
    pub qbo_no_inbound: bool,
}

/// Where the QuickBooks sandbox runs and keeps its books.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address the QuickBooks sandbox listens on.
    #[arg(long, env = "SANDBOX_BIND", default_value = "127.0.0.1:3901")]
    pub sandbox_bind: SocketAddr,
    /// The sandbox's own SQLite file.
    #[arg(long, env = "SANDBOX_DB", default_value = "data/sandbox.db")]
    pub sandbox_db: std::path::PathBuf,
    /// Redirect URIs the sandbox accepts besides loopback ones (comma-separated), like those
    /// registered in Intuit's developer portal.
    #[arg(long, env = "SANDBOX_REDIRECT_URIS", value_delimiter = ',')]
    pub sandbox_redirect_uris: Vec<String>,
    /// The token the sandbox's control routes require when it listens beyond loopback (default:
    /// a random one, printed at start).
    #[arg(long, env = "SANDBOX_CONTROL_TOKEN", hide_env_values = true)]
    pub sandbox_control_token: Option<SecretString>,
    /// Address the NetSuite sandbox listens on.
    #[arg(long, env = "NETSUITE_SANDBOX_BIND", default_value = "127.0.0.1:3902")]
    pub netsuite_sandbox_bind: SocketAddr,
    /// The NetSuite sandbox's own SQLite file.
    #[arg(
        long,
        env = "NETSUITE_SANDBOX_DB",
        default_value = "data/netsuite-sandbox.db"
    )]
    pub netsuite_sandbox_db: std::path::PathBuf,
}

/// Options of `sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxCommandArgs {
    /// Where it listens and keeps its books.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Which ERPs to serve: both, quickbooks or netsuite.
    #[arg(long, env = "SANDBOX_ERP", default_value = "both")]
    pub erp: String,
    /// The OAuth client id it accepts (default: the demo app's).
    #[arg(long, env = "QBO_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The client secret it accepts (default: the demo app's).
    #[arg(long, env = "QBO_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<SecretString>,
    /// The verifier token it signs webhooks with (default: the demo one).
    #[arg(long, env = "QBO_WEBHOOK_VERIFIER_TOKEN", hide_env_values = true)]
    pub verifier_token: Option<SecretString>,
    /// Where it sends webhooks (e.g. http://127.0.0.1:3000/api/integrations/quickbooks/webhook).
    #[arg(long, env = "SANDBOX_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// Webhook payload format: cloud-events or legacy.
    #[arg(long, env = "SANDBOX_WEBHOOK_FORMAT", default_value = "cloud-events")]
    pub webhook_format: String,
    /// Throttle at all.
    #[arg(long, env = "SANDBOX_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub limits: bool,
    /// Requests per minute and company.
    #[arg(long, env = "SANDBOX_REQUESTS_PER_MINUTE", default_value_t = 500)]
    pub requests_per_minute: u32,
    /// Concurrent requests per company.
    #[arg(long, env = "SANDBOX_CONCURRENCY", default_value_t = 10)]
    pub concurrency: u32,
    /// Batch calls per minute and company.
    #[arg(long, env = "SANDBOX_BATCH_PER_MINUTE", default_value_t = 40)]
    pub batch_per_minute: u32,
    /// How many times faster than real time the sandbox's minute (and webhook retry schedule) runs.
    #[arg(long, env = "SANDBOX_TIME_SCALE", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Access-token lifetime in seconds (Intuit: 3600).
    #[arg(long, env = "SANDBOX_ACCESS_TOKEN_SECONDS", default_value_t = 3600)]
    pub access_token_seconds: i64,
    /// Log format: pretty or json.
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to a tenant. The password is read from ERP_BRIDGE_PASSWORD or, if unset, from
    /// the first line of standard input; never from the command line.
    Add(UserAddArgs),
}

/// Options of `user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Tenant slug.
    #[arg(long)]
    pub tenant: String,
    /// Login email.
    #[arg(long)]
    pub email: String,
    /// Admin, SalesManager, SalesRep or Customer.
    #[arg(long)]
    pub role: String,
    /// Display name (default: the email).
    #[arg(long)]
    pub name: Option<String>,
    /// For the Customer role: the customer number the user belongs to.
    #[arg(long)]
    pub customer_number: Option<i64>,
    /// Database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `tenant` subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Add(TenantAddArgs),
}

/// Options of `tenant add`.
#[derive(Debug, Args)]
pub struct TenantAddArgs {
    /// Short unique name used by other commands (letters, digits, dashes).
    #[arg(long)]
    pub slug: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Database.
    #[command(flatten)]
    pub db: DbArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_loopback_3000() {
        let cli = Cli::try_parse_from(["erp-bridge", "serve", "--demo"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("expected serve")
        };
        assert!(args.demo);
        assert_eq!(args.bind.to_string(), "127.0.0.1:3000");
    }
}
