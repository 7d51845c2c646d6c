//! Where the QuickBooks connector talks to and how fast: Intuit's production or sandbox hosts,
//! or an erp-bridge sandbox, plus pacing and retry settings (reference § 1, § 2, § 6).

use secrecy::SecretString;
use std::time::Duration;

/// Which QuickBooks the connector uses (`QBO_ENVIRONMENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    /// Intuit production.
    Production,
    /// Intuit's developer sandbox companies.
    Sandbox,
    /// An erp-bridge QuickBooks sandbox (`erp-bridge sandbox`, or started by `serve --demo`).
    Emulator,
}

/// The URLs of one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Consent page.
    pub authorize: String,
    /// Token endpoint.
    pub token: String,
    /// Revocation endpoint.
    pub revoke: String,
    /// API base, without `/v3`.
    pub api_base: String,
}

impl Endpoints {
    /// Intuit's hosts for `env`; `emulator_url` is the sandbox's base URL (Emulator only).
    pub fn for_environment(env: Environment, emulator_url: Option<&str>) -> Option<Endpoints> {
        let intuit = |api: &str| Endpoints {
            authorize: "https://appcenter.intuit.com/connect/oauth2".into(),
            token: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer".into(),
            revoke: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke".into(),
            api_base: api.into(),
        };
        match env {
            Environment::Production => Some(intuit("https://quickbooks.api.intuit.com")),
            Environment::Sandbox => Some(intuit("https://sandbox-quickbooks.api.intuit.com")),
            Environment::Emulator => {
                let base = emulator_url?.trim_end_matches('/');
                Some(Endpoints {
                    authorize: format!("{base}/connect/oauth2"),
                    token: format!("{base}/oauth2/v1/tokens/bearer"),
                    revoke: format!("{base}/v2/oauth2/tokens/revoke"),
                    api_base: base.to_string(),
                })
            }
        }
    }
}

/// Client-side pacing to Intuit's published limits, per realm.
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// Requests per window (Intuit: 500 per minute).
    pub per_window: u32,
    /// Requests in flight (Intuit: 10).
    pub concurrency: u32,
    /// Batch calls per window (Intuit: 40 per minute).
    pub batch_per_window: u32,
    /// The window (a minute; shorter against a time-scaled sandbox).
    pub window: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            per_window: 500,
            concurrency: 10,
            batch_per_window: 40,
            window: Duration::from_secs(60),
        }
    }
}

/// Everything the connector needs.
#[derive(Clone, Debug)]
pub struct QboSettings {
    /// The Intuit app's client id.
    pub client_id: String,
    /// The app's secret.
    pub client_secret: SecretString,
    /// Where Intuit sends the browser back; default `{public origin}/api/integrations/quickbooks/callback`.
    pub redirect_uri: Option<String>,
    /// Environment URLs.
    pub endpoints: Endpoints,
    /// Pacing.
    pub pacing: Pacing,
    /// Wait after a 429 without Retry-After (Intuit: 60 s).
    pub throttle_wait: Duration,
    /// Longest wait for one HTTP call.
    pub request_timeout: Duration,
    /// Longest time one operation may spend waiting on throttles before giving the event back
    /// to the outbox with a Retry-After.
    pub throttle_budget: Duration,
    /// Attempts of one read on 5xx/timeouts (writes are never blindly repeated).
    pub read_attempts: u32,
    /// Items per batch call (Intuit's cap is 30).
    pub batch_size: usize,
    /// Refresh the access token when it has less than this left.
    pub refresh_margin: chrono::TimeDelta,
}

impl QboSettings {
    /// Settings with Intuit's defaults for the given app and endpoints.
    pub fn new(client_id: &str, client_secret: SecretString, endpoints: Endpoints) -> Self {
        QboSettings {
            client_id: client_id.to_string(),
            client_secret,
            redirect_uri: None,
            endpoints,
            pacing: Pacing::default(),
            throttle_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            throttle_budget: Duration::from_secs(10),
            read_attempts: 3,
            batch_size: 30,
            refresh_margin: chrono::TimeDelta::minutes(5),
        }
    }
}
