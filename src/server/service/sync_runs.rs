//! Sync runs as the console shows them (IntegrationsView): how far a manual sync or backfill has
//! got, read from the statuses of the rows that deliver it.

use super::paging::Paging;
use crate::domain::commerce::Page;
use crate::domain::connection::Provider;
use crate::domain::sync::SyncRun;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::sync_runs::{self, SyncRunRow};
use crate::server::store::Db;
use uuid::Uuid;

async fn with_progress(db: &Db, row: SyncRunRow) -> Result<SyncRun, AppError> {
    let c = sync_runs::counts(db, row.id).await.map_err(store)?;
    let provider: Provider = row
        .provider
        .parse()
        .map_err(|e| crate::server::service::errors::internal(format!("sync run: {e}")))?;
    let errors: Vec<String> = serde_json::from_str(&row.errors).unwrap_or_default();
    let finished = c.delivered + c.failed + c.set_aside + row.not_queued;
    let total = row.considered.max(finished + c.pending);
    let complete = c.pending == 0;
    let percent = if total == 0 {
        100
    } else {
        (finished * 100 / total).clamp(0, 100)
    };
    Ok(SyncRun {
        id: row.id,
        provider,
        scope: row.scope,
        since: row.since,
        total,
        delivered: c.delivered,
        failed: c.failed,
        pending: c.pending,
        set_aside: c.set_aside,
        not_queued: row.not_queued,
        errors,
        percent,
        complete,
        started_at: row.created_at,
        finished_at: complete.then(|| {
            c.last_processed_at
                .unwrap_or(row.created_at)
                .max(row.created_at)
        }),
    })
}

/// One run with its progress.
pub async fn get(db: &Db, p: &Principal, id: Uuid) -> Result<SyncRun, AppError> {
    p.require(Policy::IntegrationsView)?;
    let row = sync_runs::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    with_progress(db, row).await
}

/// The tenant's runs, newest first.
pub async fn list(
    db: &Db,
    p: &Principal,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<SyncRun>, AppError> {
    p.require(Policy::IntegrationsView)?;
    let paging = Paging::new(page, per_page.or(Some(20)));
    let (rows, total) = sync_runs::list(db, p.tenant_id, paging.per_page, paging.offset())
        .await
        .map_err(store)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(with_progress(db, row).await?);
    }
    Ok(Page {
        items,
        page: paging.page,
        per_page: paging.per_page,
        total,
    })
}
