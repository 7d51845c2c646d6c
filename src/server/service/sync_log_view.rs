//! The sync log viewer (US-ERP-009): every delivery attempt, skip and inbound change, filtered by
//! provider, entity type, direction, status, date range and record, newest first
//! (IntegrationsView: Admin and SalesManager).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::paging::Paging;
use crate::domain::connection::Provider;
use crate::domain::sync::{
    explain_log, DeliveryState, LogFilterInput, LogPage, SyncLogDetail, SyncLogItem, LOG_TOTAL_CAP,
};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::sync_logs::{self, LogFilter, Position, SyncLogRow};
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
    /// A `cursor` or `prev_cursor` of an earlier answer; wins over `page`.
    pub cursor: Option<String>,
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
            cursor: given(f.cursor),
        })
    }
}

/// A keyset position in the log and the page number it leads to, as the opaque text the API
/// hands out: `o3-<nanos>-<id>` is page 3, the rows older than (nanos, id); `n…` the newer ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    page: i64,
    at: Position,
}

impl Cursor {
    fn encode(page: i64, older: bool, row: &SyncLogItem) -> Option<String> {
        let nanos = row.started_at.timestamp_nanos_opt()?;
        let dir = if older { 'o' } else { 'n' };
        Some(format!("{dir}{page}-{nanos}-{}", row.id.simple()))
    }

    fn decode(text: &str) -> Result<Cursor, AppError> {
        let bad = || {
            AppError::BadRequest(
                "cursor: not one this server gave out; start again from the first page.".into(),
            )
        };
        let mut chars = text.chars();
        let dir = chars.next().ok_or_else(bad)?;
        let mut parts = chars.as_str().splitn(3, '-');
        let page: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let nanos: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts
            .next()
            .and_then(|p| Uuid::try_parse(p).ok())
            .ok_or_else(bad)?;
        let at = DateTime::<Utc>::from_timestamp_nanos(nanos);
        let at = match dir {
            'o' => Position::Older(at, id),
            'n' => Position::Newer(at, id),
            _ => return Err(bad()),
        };
        Ok(Cursor {
            page: page.clamp(1, super::paging::MAX_PAGE),
            at,
        })
    }
}

/// A page of the tenant's sync logs, newest first (IntegrationsView): by keyset when a cursor is
/// given, else by page number. One row more than the page is read to know whether an older page
/// exists; the total is counted up to [`LOG_TOTAL_CAP`].
pub async fn list(db: &Db, p: &Principal, q: LogQuery) -> Result<LogPage, AppError> {
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
    let per_page = paging.per_page;
    let mut at = match text(q.cursor) {
        Some(c) => Cursor::decode(&c)?,
        None => Cursor {
            page: paging.page,
            at: Position::Offset(paging.offset()),
        },
    };
    let mut rows = sync_logs::search(db, p.tenant_id, &filter, per_page + 1, at.at)
        .await
        .map_err(store)?;
    if matches!(at.at, Position::Newer(..)) && (rows.len() as i64) <= per_page {
        // Fewer newer rows than a page: this is the first page, read it whole.
        at = Cursor {
            page: 1,
            at: Position::Offset(0),
        };
        rows = sync_logs::search(db, p.tenant_id, &filter, per_page + 1, at.at)
            .await
            .map_err(store)?;
    }
    let more = rows.len() as i64 > per_page;
    let (has_older, has_newer) = match at.at {
        Position::Offset(_) => (more, at.page > 1),
        Position::Older(..) => (more, true),
        Position::Newer(..) => (true, true),
    };
    if more {
        match at.at {
            // Newest first: the extra row of a newer page is its first, of any other its last.
            Position::Newer(..) => {
                rows.remove(0);
            }
            _ => {
                rows.pop();
            }
        }
    }
    let items: Vec<SyncLogItem> = rows.into_iter().map(Into::into).collect();
    let cursor = if has_older {
        items
            .last()
            .and_then(|r| Cursor::encode(at.page + 1, true, r))
    } else {
        None
    };
    // Rows that arrived since the first page was read can leave newer rows before "page 1".
    let prev_cursor = if has_newer {
        items
            .first()
            .and_then(|r| Cursor::encode((at.page - 1).max(1), false, r))
    } else {
        None
    };
    let counted = sync_logs::count_up_to(db, p.tenant_id, &filter, LOG_TOTAL_CAP)
        .await
        .map_err(store)?;
    Ok(LogPage {
        items,
        page: at.page,
        per_page,
        total: counted.min(LOG_TOTAL_CAP),
        total_capped: counted > LOG_TOTAL_CAP,
        cursor,
        prev_cursor,
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
