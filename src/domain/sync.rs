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
    /// Not sent, for the reason in the badge's detail (settings, or an order not paid yet).
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
            SyncState::Skipped => format!("{name}: not sent"),
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
    /// The mapping viewer's page of this record (for roles that reach the console).
    pub mapping_href: Option<String>,
    /// The last error, for failed states (shown to roles that may see sync details).
    pub detail: Option<String>,
    /// The outbox row to retry, for failed states.
    pub outbox_id: Option<Uuid>,
}

/// What a "Sync now" request queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRequestResult {
    /// Deliveries queued.
    pub queued: i64,
    /// Records whose current version was already waiting.
    pub already_queued: i64,
    /// What could not be queued, one line each.
    pub errors: Vec<String>,
}

/// A manual sync or backfill and how far its deliveries have got (DESIGN § 14). Its counts mean
/// delivered, not queued; it is complete when every row is terminal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncRun {
    /// Id.
    pub id: Uuid,
    /// Which ERP.
    pub provider: super::connection::Provider,
    /// `Customer`, `Order` or `All`.
    pub scope: String,
    /// Only records changed since then (UTC), if set.
    pub since: Option<DateTime<Utc>>,
    /// Records considered.
    pub total: i64,
    /// Delivered.
    pub delivered: i64,
    /// Failed for good or until a person retries (see the sync log).
    pub failed: i64,
    /// Still to be delivered (waiting, in flight or retrying).
    pub pending: i64,
    /// Taken over by a newer change, or dismissed.
    pub set_aside: i64,
    /// Records that could not be queued (see `errors`).
    pub not_queued: i64,
    /// Why records could not be queued, one line each.
    pub errors: Vec<String>,
    /// Percent of records finished, 0 to 100.
    pub percent: i64,
    /// Every row is terminal.
    pub complete: bool,
    /// Started (UTC).
    pub started_at: DateTime<Utc>,
    /// Finished (UTC), once complete.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which ERP record is which of ours (the mapping viewer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MappingItem {
    /// `Customer`, `Order`, `OrderLine`, `Product`, …
    pub entity_type: String,
    /// Our record's id.
    pub our_id: String,
    /// The ERP's id (`{invoice}:{line}` for an order line).
    pub external_id: String,
    /// The ERP's concurrency token when last seen (QuickBooks SyncToken).
    pub sync_token: Option<String>,
    /// The ERP company.
    pub external_company_id: String,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last written or seen (UTC).
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// An outbox row as the console shows it (the payload is left out: it may hold personal data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutboxItem {
    /// Id.
    pub id: Uuid,
    /// Event.
    pub event_type: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// Target provider (None: no provider was connected).
    pub target_system: Option<String>,
    /// Status.
    pub status: String,
    /// Failed attempts.
    pub retry_count: i64,
    /// Attempts allowed.
    pub max_retries: i64,
    /// Next attempt.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Last error or skip reason.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Completed.
    pub processed_at: Option<DateTime<Utc>>,
}

/// An incoming ERP event as the inbox viewer shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxItem {
    /// Id.
    pub id: Uuid,
    /// `QuickBooks` or `NetSuite`.
    pub provider: String,
    /// `Create`, `Update`, …
    pub event_type: Option<String>,
    /// The ERP's entity name (`Payment`, `Invoice`, …).
    pub entity_type: Option<String>,
    /// The ERP's id.
    pub entity_id: Option<String>,
    /// Received (UTC).
    pub received_at: DateTime<Utc>,
    /// Processed (UTC).
    pub processed_at: Option<DateTime<Utc>>,
    /// `Pending`, `InProgress`, `Completed`, `Failed`, `Skipped`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (UTC).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last error or skip reason.
    pub last_error: Option<String>,
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

/// Where the delivery behind a log entry stands now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryState {
    /// Outbox status (`Pending`, `Failed`, `Abandoned`, `Completed`, `Superseded`, `Dismissed`, …).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Attempts allowed before it is abandoned.
    pub max_attempts: i64,
    /// The next automatic attempt (UTC), when one is planned.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Whether a person can retry it now.
    pub retryable: bool,
}

/// One log entry with what it means, its payloads (kept only in diagnostic mode, scrubbed of
/// secrets) and its delivery's current state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncLogDetail {
    /// The entry.
    pub log: SyncLogItem,
    /// The error in plain words.
    pub explanation: Option<String>,
    /// What we sent (diagnostic mode only).
    pub request_payload: Option<String>,
    /// What the ERP answered (diagnostic mode only).
    pub response_payload: Option<String>,
    /// The delivery, for outbound entries.
    pub delivery: Option<DeliveryState>,
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
    /// Where the page starts (a `cursor` or `prev_cursor` of an earlier answer); wins over `page`.
    pub cursor: Option<String>,
}

/// A page of the sync log, newest first. Paged by keyset: `cursor` reads the next (older) page
/// and `prev_cursor` the previous (newer) one, each as fast as the first; `page` numbers still work.
/// `total` counts no further than [`LOG_TOTAL_CAP`]: past it, `total_capped` says "at least".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogPage {
    /// The rows, newest first.
    pub items: Vec<SyncLogItem>,
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Rows matching, counted up to [`LOG_TOTAL_CAP`].
    pub total: i64,
    /// True when more rows match than `total` (the count stopped at the cap).
    pub total_capped: bool,
    /// The next (older) page, when there is one.
    pub cursor: Option<String>,
    /// The previous (newer) page, when there is one.
    pub prev_cursor: Option<String>,
}

/// The most log rows a page's `total` counts (counting stops there, so it costs the same for a
/// tenant with a million rows as for one with ten thousand).
pub const LOG_TOTAL_CAP: i64 = 10_000;

/// What a sync log row's error means, in words a person can act on (the raw text is shown folded
/// away beside it). The worker writes the kind as a prefix: `authentication failed:`,
/// `rejected:`, `throttled:`; a retryable failure has none; a skip says why on its own.
pub fn explain_log(provider: &str, status: &str, error: Option<&str>) -> Option<String> {
    let error = error?.trim();
    if error.is_empty() {
        return None;
    }
    let erp = match provider {
        "QuickBooks" => "QuickBooks Online",
        other => other,
    };
    Some(match status {
        "Skipped" => format!("Not sent: {error}"),
        _ if error.starts_with("authentication failed:") => format!(
            "{erp} refused our connection's credentials. An Admin must reconnect it on the Integrations page; deliveries wait until then."
        ),
        _ if error.starts_with("rejected:") => {
            let reason = error.trim_start_matches("rejected:").trim();
            format!("{erp} rejected the data and will keep rejecting it as it is: {reason}. Correct the record, then retry.")
        }
        _ if error.starts_with("throttled:") => format!(
            "{erp} asked us to slow down. Nothing is lost: this is sent again automatically."
        ),
        _ => format!(
            "{erp} could not be reached or failed on its side. It is retried automatically; if it keeps failing, check the ERP's status."
        ),
    })
}

#[cfg(test)]
mod explain_tests {
    use super::explain_log;

    #[test]
    fn each_kind_of_failure_reads_as_what_to_do() {
        let auth = explain_log(
            "QuickBooks",
            "Failed",
            Some("authentication failed: 401 AuthenticationFailed"),
        );
        assert!(auth.is_some_and(|t| t.contains("reconnect")));
        let rejected = explain_log(
            "QuickBooks",
            "Failed",
            Some("rejected: Invalid Reference Id: CustomerRef"),
        );
        assert!(
            rejected.is_some_and(|t| t.contains("CustomerRef") && t.contains("Correct the record"))
        );
        let throttled = explain_log("NetSuite", "Failed", Some("throttled: 429"));
        assert!(throttled.is_some_and(|t| t.starts_with("NetSuite asked us to slow down")));
        let down = explain_log("QuickBooks", "Failed", Some("HTTP 503 Service Unavailable"));
        assert!(down.is_some_and(|t| t.contains("retried automatically")));
        let skipped = explain_log("QuickBooks", "Skipped", Some("sync_invoices is off"));
        assert_eq!(skipped.as_deref(), Some("Not sent: sync_invoices is off"));
        assert_eq!(explain_log("QuickBooks", "Completed", None), None);
        assert_eq!(explain_log("QuickBooks", "Failed", Some("  ")), None);
    }
}
