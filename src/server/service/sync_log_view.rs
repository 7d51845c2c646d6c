//! The sync log viewer (US-ERP-009): every delivery attempt, skip and inbound change, filtered by
//! provider, entity type, direction, status, date range and record, newest first
//! (IntegrationsView: Admin and SalesManager).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::paging::Paging;
use crate::domain::commerce::Page;
use crate::domain::connection::Provider;
use crate::domain::sync::{explain_log, DeliveryState, LogFilterInput, SyncLogDetail, SyncLogItem};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::sync_logs::{self, LogFilter, SyncLogRow};
use crate::server::store::{outbox, Db};
use uuid::Uuid;

/// Which way a logged sync went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum LogDirection {
    /// From us to the ERP.
    ToExternal,
    /// From the ERP to us.
    FromExternal,
}

/// A logged sync's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum LogStatus {
    /// Not finished.
    Pending,
    /// Under way.
    InProgress,
    /// Done.
    Completed,
    /// Failed (see the error).
    Failed,
    /// Nothing to do (see the reason).
    Skipped,
}

macro_rules! names {
    ($t:ty { $($v:ident),* }) => {
        impl $t {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => stringify!($v)),* }
            }
        }
    };
}
names!(LogDirection {
    ToExternal,
    FromExternal
});
names!(LogStatus {
    Pending,
    InProgress,
    Completed,
    Failed,
    Skipped
});

/// The filters, as the route and the page take them.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    /// `quickbooks` or `netsuite`.
    pub provider: Option<String>,
    /// Entity type (`Customer`, `Order`, `Payment`, …).
    pub entity_type: Option<String>,
    /// Direction.
    pub direction: Option<LogDirection>,
    /// Status.
    pub status: Option<LogStatus>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    /// Our record's id or the ERP's id.
    pub q: Option<String>,
    /// Page.
    pub page: Option<i64>,
    /// Rows per page.
    pub per_page: Option<i64>,
}

impl From<SyncLogRow> for SyncLogItem {
    fn from(r: SyncLogRow) -> Self {
        SyncLogItem {
            id: r.id,
            provider: r.provider,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            external_id: r.external_id,
            event_type: r.event_type,
            direction: r.direction,
            status: r.status,
            error_message: r.error_message,
            started_at: r.started_at,
            completed_at: r.completed_at,
            duration_ms: r.duration_ms,
            retry_count: r.retry_count,
            outbox_id: r.outbox_id,
        }
    }
}

impl LogQuery {
    /// The page's filter form: dates are whole days (UTC), `to` included; empty fields are absent.
    pub fn from_form(f: LogFilterInput) -> Result<LogQuery, AppError> {
        use chrono::{NaiveDate, TimeZone};
        let given = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let day = |s: Option<String>, next: bool| -> Result<Option<DateTime<Utc>>, AppError> {
            let Some(s) = given(s) else { return Ok(None) };
            let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest(format!("{s:?} is not a date (YYYY-MM-DD).")))?;
            let d = if next { d.succ_opt().unwrap_or(d) } else { d };
            Ok(d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t)))
        };
        let direction = match given(f.direction).as_deref() {
            None => None,
            Some("ToExternal") => Some(LogDirection::ToExternal),
            Some("FromExternal") => Some(LogDirection::FromExternal),
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "{other:?} is not a direction."
                )))
            }
        };
        let status = match given(f.status).as_deref() {
            None => None,
            Some("Pending") => Some(LogStatus::Pending),
            Some("InProgress") => Some(LogStatus::InProgress),
            Some("Completed") => Some(LogStatus::Completed),
            Some("Failed") => Some(LogStatus::Failed),
            Some("Skipped") => Some(LogStatus::Skipped),
            Some(other) => return Err(AppError::BadRequest(format!("{other:?} is not a status."))),
        };
        Ok(LogQuery {
            provider: given(f.provider),
            entity_type: given(f.entity_type),
            direction,
            status,
            from: day(f.from, false)?,
            to: day(f.to, true)?,
            q: given(f.q),
            page: Some(f.page),
            per_page: None,
        })
    }
}

/// A page of the tenant's sync logs (IntegrationsView).
pub async fn list(db: &Db, p: &Principal, q: LogQuery) -> Result<Page<SyncLogItem>, AppError> {
    p.require(Policy::IntegrationsView)?;
    let provider = match q.provider.as_deref() {
        Some(name) => Some(
            name.parse::<Provider>()
                .map_err(|e| AppError::BadRequest(format!("{e}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let text = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let filter = LogFilter {
        provider,
        entity_type: text(q.entity_type),
        direction: q.direction.map(|d| d.as_str().to_string()),
        status: q.status.map(|s| s.as_str().to_string()),
        from: q.from,
        to: q.to,
        record: text(q.q),
    };
    let paging = Paging::new(q.page, q.per_page);
    let (rows, total) =
        sync_logs::search(db, p.tenant_id, &filter, paging.per_page, paging.offset())
            .await
            .map_err(store)?;
    Ok(Page {
        items: rows.into_iter().map(Into::into).collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    })
}

/// One log entry with its payloads and its delivery's state (IntegrationsView).
pub async fn detail(db: &Db, p: &Principal, id: Uuid) -> Result<SyncLogDetail, AppError> {
    p.require(Policy::IntegrationsView)?;
    let row = sync_logs::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let delivery = match row.outbox_id {
        Some(outbox_id) => outbox::get(db, p.tenant_id, outbox_id)
            .await
            .map_err(store)?
            .map(|o| DeliveryState {
                retryable: matches!(
                    o.status.as_str(),
                    outbox::status::FAILED | outbox::status::ABANDONED
                ),
                next_attempt_at: (o.status == outbox::status::PENDING
                    || o.status == outbox::status::FAILED)
                    .then_some(o.scheduled_for)
                    .flatten(),
                attempts: o.retry_count,
                max_attempts: o.max_retries,
                status: o.status,
            }),
        None => None,
    };
    let request_payload = row.request_payload.clone();
    let response_payload = row.response_payload.clone();
    let log: SyncLogItem = row.into();
    Ok(SyncLogDetail {
        explanation: explain_log(&log.provider, &log.status, log.error_message.as_deref()),
        log,
        request_payload,
        response_payload,
        delivery,
    })
}
