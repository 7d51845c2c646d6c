//! Sync state as users see it: a badge per connected ERP on each order and customer, and the
//! outbox vocabulary behind it.

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
