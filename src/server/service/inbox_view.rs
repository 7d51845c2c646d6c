//! The inbox viewer (IntegrationsManage): every event an ERP sent us, by status, with attempts
//! and the last error; failed ones can be put back in line, one or all.

use super::paging::Paging;
use crate::domain::commerce::Page;
use crate::domain::sync::InboxItem;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::{inbox, Db};
use crate::server::time;
use uuid::Uuid;

/// Inbox statuses.
pub const STATUSES: [&str; 5] = ["Pending", "InProgress", "Completed", "Failed", "Skipped"];

/// A page of the inbox.
pub async fn list(
    db: &Db,
    p: &Principal,
    status: Option<&str>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<InboxItem>, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(STATUSES.into_iter().find(|k| *k == s).ok_or_else(|| {
            AppError::BadRequest(format!(
                "{s:?} is not an inbox status ({}).",
                STATUSES.join(", ")
            ))
        })?),
    };
    let paging = Paging::new(page, per_page);
    let (rows, total) = inbox::search(db, p.tenant_id, status, paging.per_page, paging.offset())
        .await
        .map_err(store)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| InboxItem {
                id: r.id,
                provider: r.provider,
                event_type: r.event_type,
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                received_at: r.received_at,
                processed_at: r.processed_at,
                status: r.status,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
            })
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    })
}

/// Puts one failed event (or every failed one, for None) back in line; how many.
pub async fn retry(db: &Db, p: &Principal, id: Option<Uuid>) -> Result<u64, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let n = inbox::retry_failed(db, p.tenant_id, id, time::now())
        .await
        .map_err(store)?;
    if id.is_some() && n == 0 {
        return Err(AppError::Conflict(
            "Only a failed event can be retried; this one is not failed (or not here).".into(),
        ));
    }
    Ok(n)
}
