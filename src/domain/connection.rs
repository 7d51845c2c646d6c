//! ERP providers and what the dashboard shows of a tenant's connection to each.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A supported ERP. Stored as `QuickBooks` / `NetSuite`; `quickbooks` / `netsuite` in URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Provider {
    /// QuickBooks Online.
    QuickBooks,
    /// Oracle NetSuite.
    NetSuite,
}

impl Provider {
    /// Every provider, in display order.
    pub const ALL: [Provider; 2] = [Provider::QuickBooks, Provider::NetSuite];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::QuickBooks => "QuickBooks",
            Provider::NetSuite => "NetSuite",
        }
    }

    /// The URL segment.
    pub fn slug(self) -> &'static str {
        match self {
            Provider::QuickBooks => "quickbooks",
            Provider::NetSuite => "netsuite",
        }
    }

    /// The product name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Provider::QuickBooks => "QuickBooks Online",
            Provider::NetSuite => "NetSuite",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parse error for [`Provider`].
#[derive(Debug, thiserror::Error)]
#[error("unknown provider {0:?}; expected quickbooks or netsuite")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s) || p.slug() == s)
            .ok_or_else(|| UnknownProvider(s.to_string()))
    }
}

/// Connection status vocabulary (DESIGN § 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ConnectionStatus {
    /// Tokens valid, syncing.
    Connected,
    /// Never connected, or disconnected.
    NotConnected,
    /// The ERP refused our credentials; an Admin must connect again. Events wait.
    ReconnectRequired,
    /// Another persistent failure.
    Error,
}

impl ConnectionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "Connected",
            ConnectionStatus::NotConnected => "NotConnected",
            ConnectionStatus::ReconnectRequired => "ReconnectRequired",
            ConnectionStatus::Error => "Error",
        }
    }

    /// Parses the stored name; unknown values read as `Error` so they are never shown as healthy.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "Connected" => ConnectionStatus::Connected,
            "NotConnected" => ConnectionStatus::NotConnected,
            "ReconnectRequired" => ConnectionStatus::ReconnectRequired,
            _ => ConnectionStatus::Error,
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "Connected",
            ConnectionStatus::NotConnected => "Not connected",
            ConnectionStatus::ReconnectRequired => "Reconnect required",
            ConnectionStatus::Error => "Error",
        }
    }
}

/// One card of the integrations dashboard. Never carries a token or credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionSummary {
    /// Which ERP.
    pub provider: Provider,
    /// Current status.
    pub status: ConnectionStatus,
    /// Realm id (QBO) or account id (NetSuite).
    pub external_company_id: Option<String>,
    /// Company name as the ERP reports it.
    pub company_name: Option<String>,
    /// Last successful sync (UTC).
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Last sync error, if any.
    pub last_sync_error: Option<String>,
    /// Why a reconnect is required, if it is.
    pub reconnect_reason: Option<String>,
    /// Auto-sync setting.
    pub auto_sync_enabled: bool,
    /// Deliveries waiting or in flight.
    #[serde(default)]
    pub pending: i64,
    /// Deliveries that failed (retrying or awaiting a manual retry).
    #[serde(default)]
    pub failed: i64,
    /// Deliveries whose retries are exhausted.
    #[serde(default)]
    pub abandoned: i64,
    /// Deliveries paused by the circuit breaker until this time (UTC), if they are.
    #[serde(default)]
    pub paused_until: Option<DateTime<Utc>>,
    /// Why the breaker paused them, in plain words.
    #[serde(default)]
    pub paused_reason: Option<String>,
    /// When the credentials stop working by themselves (a NetSuite M2M certificate's expiry,
    /// read from the certificate), if they do.
    #[serde(default)]
    pub credentials_expire_at: Option<DateTime<Utc>>,
    /// Whole days until then, counted by the server's clock (negative: expired).
    #[serde(default)]
    pub credentials_days_left: Option<i64>,
}

impl ConnectionSummary {
    /// Days a credentials expiry is announced ahead.
    pub const EXPIRY_WARNING_DAYS: i64 = 30;

    /// The card shown for a provider the tenant has never connected.
    pub fn not_connected(provider: Provider) -> Self {
        ConnectionSummary {
            provider,
            status: ConnectionStatus::NotConnected,
            external_company_id: None,
            company_name: None,
            last_sync_at: None,
            last_sync_error: None,
            reconnect_reason: None,
            auto_sync_enabled: true,
            pending: 0,
            failed: 0,
            abandoned: 0,
            paused_until: None,
            paused_reason: None,
            credentials_expire_at: None,
            credentials_days_left: None,
        }
    }
}

/// What an Admin decides about a connection (US-ERP-010).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionSettings {
    /// Changes are queued automatically; when off, only "Sync now" and backfills send.
    pub auto_sync_enabled: bool,
    /// Customers are sent.
    pub sync_customers: bool,
    /// Invoices (QuickBooks) / sales orders (NetSuite) are sent.
    pub sync_invoices: bool,
    /// Payments are sent.
    pub sync_payments: bool,
    /// Minutes between pulls of changes from the ERP (5 to 1,440).
    pub pull_frequency_minutes: i64,
    /// Request and response payloads are kept (scrubbed) until this time (UTC); None: off.
    pub diagnostic_until: Option<DateTime<Utc>>,
    /// QuickBooks: the account (its id) payments sent from here are deposited to; None: the
    /// company's Undeposited Funds.
    #[serde(default)]
    pub deposit_account_id: Option<String>,
}

/// Fewest and most minutes between pulls.
pub const PULL_FREQUENCY_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;

/// Longest diagnostic mode, in minutes.
pub const MAX_DIAGNOSTIC_MINUTES: i64 = 1440;

/// One connection with its settings (`GET /api/integrations/connections/{provider}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionDetail {
    /// The dashboard card.
    pub connection: ConnectionSummary,
    /// Its settings; None for an ERP never connected.
    pub settings: Option<ConnectionSettings>,
}

/// Counts of one time bucket of a chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// Start of the bucket (UTC).
    pub start: DateTime<Utc>,
    /// Went through (deliveries completed / webhook events processed).
    pub ok: i64,
    /// Failed.
    pub failed: i64,
    /// Neither (skipped, waiting).
    pub other: i64,
}

/// The last success and failure of one kind of record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EntityHealth {
    /// `Customer`, `Order`, `Payment`, …
    pub entity_type: String,
    /// Last delivery or change that went through (last 7 days).
    pub last_success: Option<DateTime<Utc>>,
    /// Last failure (last 7 days).
    pub last_failure: Option<DateTime<Utc>>,
}

/// How one ERP connection has been doing: the dashboard's charts and health table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderHealth {
    /// Which ERP.
    pub provider: Provider,
    /// Sync outcomes per hour, the last 24 hours, oldest first.
    pub hourly: Vec<Bucket>,
    /// Webhook events per day, the last 7 days, oldest first.
    pub webhooks_daily: Vec<Bucket>,
    /// Per entity type.
    pub entities: Vec<EntityHealth>,
    /// Webhook events received in the last 24 hours.
    pub webhooks_24h: i64,
    /// Of those, processed without failure.
    pub webhooks_ok_24h: i64,
    /// Deliveries refused for our credentials in the last 24 hours.
    pub auth_failures_24h: i64,
}

/// A subsidiary of a OneWorld NetSuite account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Subsidiary {
    /// Its internal id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A connected (or re-checked) NetSuite account, without any secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NetSuiteAccount {
    /// The account id as NetSuite writes it (`1234567_SB1`).
    pub account_id: String,
    /// `m2m` or `tba`.
    pub method: String,
    /// `Connected`; `ReconnectRequired` when a re-check failed; `ChooseSubsidiary` when a
    /// OneWorld account was named without one of its subsidiaries (nothing stored; the form
    /// offers them).
    pub status: String,
    /// Why a re-check failed.
    pub reason: Option<String>,
    /// The account's subsidiaries (empty unless OneWorld).
    pub subsidiaries: Vec<Subsidiary>,
    /// The subsidiary records go to.
    pub subsidiary_id: Option<String>,
    /// The home currency (ISO 4217).
    pub home_currency: Option<String>,
    /// M2M: when the certificate expires.
    pub certificate_expires_at: Option<DateTime<Utc>>,
}

/// What a "check for changes now" pull found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullResult {
    /// Changes not seen before, now in the inbox (applied within seconds by the inbound worker).
    pub new_changes: usize,
}

/// A secret typed into a form (a token secret, a private key): carried as text, never shown by
/// `Debug`, so a logged request or argument list cannot leak it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FormSecret(pub String);

impl fmt::Debug for FormSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FormSecret(…)")
    }
}
