//! Sync state as users see it: a badge per connected ERP on each order and customer, and the
//! outbox vocabulary behind it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::connection::Provider;

/// Where a record stands with one ERP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SyncState {
    /// The ERP has it.
    Synced,
    /// A delivery is queued or in flight.
    Pending,
    /// The last delivery failed; it will be retried (or needs a manual retry).
    Failed,
    /// Retries are exhausted; someone must act.
    Abandoned,
    /// Settings say this record is not sent.
    Skipped,
    /// An Admin dismissed the record's last change: it was not sent.
    Dismissed,
    /// Nothing has been sent.
    NotSynced,
}

impl SyncState {
    /// The badge text.
    pub fn label(self, provider: Provider) -> String {
        let name = provider.label();
        match self {
            SyncState::Synced => format!("Synced to {name}"),
            SyncState::Pending => format!("{name}: pending"),
            SyncState::Failed => format!("{name}: failed"),
            SyncState::Abandoned => format!("{name}: failed, retries exhausted"),
            SyncState::Skipped => format!("{name}: not sent (settings)"),
            SyncState::Dismissed => format!("{name}: last change dismissed, not sent"),
            SyncState::NotSynced => format!("Not synced to {name}"),
        }
    }

    /// A CSS-friendly name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "Synced",
            SyncState::Pending => "Pending",
            SyncState::Failed => "Failed",
            SyncState::Abandoned => "Abandoned",
            SyncState::Skipped => "Skipped",
            SyncState::Dismissed => "Dismissed",
            SyncState::NotSynced => "NotSynced",
        }
    }
}

/// One ERP's badge on a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncBadge {
    /// Which ERP.
    pub provider: Provider,
    /// Where the record stands.
    pub state: SyncState,
    /// The ERP's id, when mapped.
    pub external_id: Option<String>,
    /// The last error, for failed states (shown to roles that may see sync details).
    pub detail: Option<String>,
    /// The outbox row to retry, for failed states.
    pub outbox_id: Option<Uuid>,
}

/// One log row as the viewer shows it (payloads are left out: they may hold personal data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncLogItem {
    /// Id.
    pub id: Uuid,
    /// `QuickBooks` or `NetSuite`.
    pub provider: String,
    /// Entity type.
    pub entity_type: String,
    /// Our record's id.
    pub entity_id: Option<String>,
    /// The ERP's id.
    pub external_id: Option<String>,
    /// The event that caused it.
    pub event_type: Option<String>,
    /// `ToExternal` or `FromExternal`.
    pub direction: String,
    /// `Completed`, `Failed`, `Skipped`, …
    pub status: String,
    /// What went wrong, or why it was skipped.
    pub error_message: Option<String>,
    /// Started (UTC).
    pub started_at: DateTime<Utc>,
    /// Finished (UTC).
    pub completed_at: Option<DateTime<Utc>>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Attempts before this one.
    pub retry_count: i64,
    /// The delivery it belongs to (retry it from here).
    pub outbox_id: Option<Uuid>,
}

/// The log page's filter form, as submitted (every field a string; empty means "any").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFilterInput {
    /// `quickbooks` or `netsuite`.
    pub provider: Option<String>,
    /// Entity type.
    pub entity_type: Option<String>,
    /// `ToExternal` or `FromExternal`.
    pub direction: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// First day (YYYY-MM-DD, UTC).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// Our record's id or the ERP's.
    pub q: Option<String>,
    /// Page, from 1.
    pub page: i64,
}
