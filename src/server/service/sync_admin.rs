//! The integration console's operations on deliveries: list the outbox, re-queue failed rows
//! (DESIGN § 13 "Retry rights"), and change a connection's sync settings.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customers::paging;
use crate::domain::commerce::Page;
use crate::domain::connection::Provider;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::http::errors::store;
use crate::server::store::{connections, outbox, sync_logs, Db};
use crate::server::time;

/// An outbox row as the console shows it (the payload is left out: it may hold personal data).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
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

impl From<outbox::OutboxRow> for OutboxItem {
    fn from(r: outbox::OutboxRow) -> Self {
        OutboxItem {
            id: r.id,
            event_type: r.event_type,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            target_system: r.target_system,
            status: r.status,
            retry_count: r.retry_count,
            max_retries: r.max_retries,
            scheduled_for: r.scheduled_for,
            last_error: r.last_error,
            created_at: r.created_at,
            processed_at: r.processed_at,
        }
    }
}

/// A page of the tenant's outbox (IntegrationsManage).
pub async fn list_outbox(
    db: &Db,
    p: &Principal,
    status: Option<&str>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<OutboxItem>, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let (page, per_page) = paging(page, per_page);
    let (rows, total) = outbox::list(db, p.tenant_id, status, per_page, (page - 1) * per_page)
        .await
        .map_err(store)?;
    Ok(Page {
        items: rows.into_iter().map(Into::into).collect(),
        page,
        per_page,
        total,
    })
}

/// Re-queues one outbox row (IntegrationsManage).
pub async fn retry_outbox(db: &Db, p: &Principal, id: Uuid) -> Result<OutboxItem, AppError> {
    p.require(Policy::IntegrationsManage)?;
    requeue(db, p, id).await
}

/// Re-queues the failed sync behind a log entry (RequestRetry: Admin and SalesManager).
pub async fn retry_from_log(db: &Db, p: &Principal, log_id: Uuid) -> Result<OutboxItem, AppError> {
    p.require(Policy::RequestRetry)?;
    let log = sync_logs::get(db, p.tenant_id, log_id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let outbox_id = log
        .outbox_id
        .ok_or_else(|| AppError::BadRequest("This log entry has no delivery to retry.".into()))?;
    requeue(db, p, outbox_id).await
}

/// Re-queues the failed delivery shown on an order or customer page (RequestRetry).
pub async fn retry_failed_sync(
    db: &Db,
    p: &Principal,
    outbox_id: Uuid,
) -> Result<OutboxItem, AppError> {
    p.require(Policy::RequestRetry)?;
    requeue(db, p, outbox_id).await
}

async fn requeue(db: &Db, p: &Principal, id: Uuid) -> Result<OutboxItem, AppError> {
    let row = outbox::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    if !outbox::requeue(db, p.tenant_id, id, time::now())
        .await
        .map_err(store)?
    {
        return Err(AppError::Conflict(format!(
            "Only failed or abandoned deliveries can be retried; this one is {}.",
            row.status
        )));
    }
    tracing::info!(outbox_id = %id, tenant_id = %p.tenant_id, actor = %p.actor.id(), "delivery re-queued by hand");
    outbox::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .map(Into::into)
        .ok_or(AppError::NotFound)
}

/// Re-queues every failed or abandoned row of a provider (IntegrationsManage).
pub async fn retry_failed(db: &Db, p: &Principal, provider: &str) -> Result<u64, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    outbox::requeue_failed(db, p.tenant_id, provider.as_str(), time::now())
        .await
        .map_err(store)
}

/// Connection settings as an Admin sends them.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingsInput {
    /// Send changes automatically.
    pub auto_sync_enabled: bool,
    /// Send customers.
    pub sync_customers: bool,
    /// Send invoices / sales orders.
    pub sync_invoices: bool,
    /// Send payments.
    pub sync_payments: bool,
    /// Store request/response payloads of every attempt for this many minutes (0: off; max 1440).
    #[serde(default)]
    pub diagnostic_minutes: i64,
}

/// Changes a connection's settings (IntegrationsManage).
pub async fn update_settings(
    db: &Db,
    p: &Principal,
    provider: &str,
    s: SettingsInput,
) -> Result<(), AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    if !(0..=1440).contains(&s.diagnostic_minutes) {
        return Err(AppError::BadRequest(
            "Diagnostic mode lasts 0 to 1440 minutes.".into(),
        ));
    }
    let now = time::now();
    let update = connections::SettingsUpdate {
        auto_sync_enabled: s.auto_sync_enabled,
        sync_customers: s.sync_customers,
        sync_invoices: s.sync_invoices,
        sync_payments: s.sync_payments,
        diagnostic_until: (s.diagnostic_minutes > 0)
            .then(|| now + TimeDelta::minutes(s.diagnostic_minutes)),
    };
    if connections::update_settings(db, p.tenant_id, provider.as_str(), &update, now)
        .await
        .map_err(store)?
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
