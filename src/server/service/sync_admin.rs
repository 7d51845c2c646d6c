//! The integration console's operations on deliveries: list the outbox, re-send failed rows
//! (DESIGN § 13 "Retry rights", § 14), dismiss them, close a breaker, and change a
//! connection's sync settings.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::paging::Paging;
use crate::domain::commerce::Page;
use crate::domain::connection::Provider;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::service::orders::{order_payload, payment_payload};
use crate::server::store::outbox::status;
use crate::server::store::{audit, customers, health, orders, outbox, sync_logs, Db, Tx};
use crate::server::time;

pub use crate::domain::sync::OutboxItem;

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
    let paging = Paging::new(page, per_page);
    let (Paging { page, per_page }, offset) = (paging, paging.offset());
    let (rows, total) = outbox::list(db, p.tenant_id, status, per_page, offset)
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
    let outbox_id = delivery_of_log(db, p, log_id, "retry").await?;
    requeue(db, p, outbox_id).await
}

/// The outbox row behind one of the tenant's log entries; `what` names the action refused
/// when the entry has none (an inbound change, a skip).
async fn delivery_of_log(
    db: &Db,
    p: &Principal,
    log_id: Uuid,
    what: &str,
) -> Result<Uuid, AppError> {
    sync_logs::get(db, p.tenant_id, log_id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?
        .outbox_id
        .ok_or_else(|| AppError::Conflict(format!("This log entry has no delivery to {what}.")))
}

/// Dismisses the delivery behind a log entry (IntegrationsManage; audited like [`dismiss`]).
pub async fn dismiss_from_log(
    db: &Db,
    p: &Principal,
    log_id: Uuid,
    input: DismissInput,
) -> Result<OutboxItem, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let outbox_id = delivery_of_log(db, p, log_id, "dismiss").await?;
    dismiss(db, p, outbox_id, input).await
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

/// A retry is a re-send (DESIGN § 14): the record's current state, under a new idempotency key,
/// in the failed row's place in its record group; the failed row is Superseded by it. So a
/// customer whose first version the ERP rejected goes out as it is now, after the fix.
async fn requeue(db: &Db, p: &Principal, id: Uuid) -> Result<OutboxItem, AppError> {
    let row = outbox::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    if row.status != status::FAILED && row.status != status::ABANDONED {
        return Err(AppError::Conflict(format!(
            "Only failed or abandoned deliveries can be retried; this one is {}.",
            row.status
        )));
    }
    let new_id = resend(db, p, &row).await?.ok_or_else(|| {
        AppError::Conflict("This delivery changed meanwhile; reload and try again.".into())
    })?;
    tracing::info!(outbox_id = %id, resent_as = %new_id, tenant_id = %p.tenant_id, actor = %p.actor.id(), "delivery re-sent by hand");
    outbox::get(db, p.tenant_id, new_id)
        .await
        .map_err(store)?
        .map(Into::into)
        .ok_or(AppError::NotFound)
}

/// Re-sends one unfinished row with its record's current state; None when the row was not
/// unfinished any more.
async fn resend(db: &Db, p: &Principal, row: &outbox::OutboxRow) -> Result<Option<Uuid>, AppError> {
    let mut tx = db.begin().await.map_err(store)?;
    let (version, payload) = current_state(&mut tx, p, row).await?;
    let resend = outbox::Resend {
        version,
        payload: &payload,
        now: time::now(),
    };
    let new_id = outbox::resend(&mut tx, p.tenant_id, row.id, &resend)
        .await
        .map_err(store)?;
    tx.commit().await.map_err(store)?;
    Ok(new_id)
}

/// The record's version and canonical payload as they are now (the stored payload, for a
/// record that no longer exists).
async fn current_state(
    tx: &mut Tx,
    p: &Principal,
    row: &outbox::OutboxRow,
) -> Result<(i64, String), AppError> {
    let id: Option<Uuid> = row.entity_id.parse().ok();
    let current = match (row.entity_type.as_str(), id) {
        ("Customer", Some(id)) => customers::get_in(tx, p.tenant_id, id)
            .await
            .map_err(store)?
            .map(|c| (c.version, json!({ "customer": c }))),
        ("Order", Some(id)) => match orders::get_in(tx, p.tenant_id, id).await.map_err(store)? {
            Some(order) => Some((order.version, order_payload(tx, p, &order).await?)),
            None => None,
        },
        ("Payment", Some(id)) => match row.correlation_id {
            Some(order_id) => orders::get_in(tx, p.tenant_id, order_id)
                .await
                .map_err(store)?
                .map(|order| (1, payment_payload(&order, id))),
            None => None,
        },
        _ => None,
    };
    Ok(match current {
        Some((version, payload)) => (version, payload.to_string()),
        None => (0, row.payload.clone()),
    })
}

/// Re-sends every failed or abandoned row of a provider with its record's current state
/// (IntegrationsManage); returns how many.
pub async fn retry_failed(db: &Db, p: &Principal, provider: &str) -> Result<u64, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    let ids = outbox::failed_ids(db, p.tenant_id, provider.as_str(), MAX_BULK_RETRY)
        .await
        .map_err(store)?;
    let mut resent = 0;
    for id in ids {
        let Some(row) = outbox::get(db, p.tenant_id, id).await.map_err(store)? else {
            continue;
        };
        if resend(db, p, &row).await?.is_some() {
            resent += 1;
        }
    }
    Ok(resent)
}

/// Most rows one bulk retry re-sends.
const MAX_BULK_RETRY: i64 = 10_000;

/// An outbox status, as the outbox list filters by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum OutboxStatus {
    /// Waiting for its turn or its next attempt.
    Pending,
    /// Claimed by a worker.
    Processing,
    /// Delivered.
    Completed,
    /// Failed; retried later or waiting for a person.
    Failed,
    /// Out of attempts.
    Abandoned,
    /// A newer event of the same record took its place.
    Superseded,
    /// An Admin set it aside.
    Dismissed,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "Pending",
            OutboxStatus::Processing => "Processing",
            OutboxStatus::Completed => "Completed",
            OutboxStatus::Failed => "Failed",
            OutboxStatus::Abandoned => "Abandoned",
            OutboxStatus::Superseded => "Superseded",
            OutboxStatus::Dismissed => "Dismissed",
        }
    }
}

/// How a route names an ERP in its path (the server also accepts other letter cases).
#[derive(Clone, Copy, Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ProviderSlug {
    /// QuickBooks Online.
    QuickBooks,
    /// NetSuite.
    NetSuite,
}

/// What a bulk retry did.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requeued {
    /// Failed deliveries sent again.
    pub requeued: i64,
}

/// Why an Admin dismisses a delivery.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DismissInput {
    /// Free text kept in the audit trail (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Dismisses a waiting or failed delivery (IntegrationsManage): it is never sent, its record's
/// later events go ahead, and the audit trail says who did it and why.
pub async fn dismiss(
    db: &Db,
    p: &Principal,
    id: Uuid,
    input: DismissInput,
) -> Result<OutboxItem, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let reason = input.reason.unwrap_or_default().trim().to_string();
    if reason.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "The reason is at most 500 characters.".into(),
        ));
    }
    let row = outbox::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let now = time::now();
    let note = if reason.is_empty() {
        "Dismissed by an Admin".to_string()
    } else {
        format!("Dismissed by an Admin: {reason}")
    };
    let mut tx = db.begin().await.map_err(store)?;
    if !outbox::dismiss(&mut tx, p.tenant_id, id, &note, now)
        .await
        .map_err(store)?
    {
        return Err(AppError::Conflict(format!(
            "Only waiting, failed or abandoned deliveries can be dismissed; this one is {}.",
            row.status
        )));
    }
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: "outbox.dismissed".into(),
        entity_type: row.entity_type.clone(),
        entity_id: row.entity_id.clone(),
        order_id: row.correlation_id,
        before_json: Some(json!({ "outbox_id": id, "status": row.status, "event_type": row.event_type, "provider": row.target_system }).to_string()),
        after_json: Some(json!({ "status": status::DISMISSED, "reason": reason }).to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    tracing::info!(outbox_id = %id, tenant_id = %p.tenant_id, actor = %p.actor.id(), "delivery dismissed by hand");
    outbox::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .map(Into::into)
        .ok_or(AppError::NotFound)
}

/// Closes a provider's circuit breaker (IntegrationsManage): deliveries resume at once. Audited.
pub async fn close_breaker(db: &Db, p: &Principal, provider: &str) -> Result<(), AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    let now = time::now();
    let before = health::get(db, p.tenant_id, provider.as_str())
        .await
        .map_err(store)?;
    health::put(
        db,
        p.tenant_id,
        provider.as_str(),
        &health::HealthRow::closed(),
        now,
    )
    .await
    .map_err(store)?;
    let mut tx = db.begin().await.map_err(store)?;
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: "breaker.closed".into(),
        entity_type: "Connection".into(),
        entity_id: provider.as_str().into(),
        order_id: None,
        before_json: Some(json!({ "state": before.state, "open_until": before.open_until, "last_error": before.last_error }).to_string()),
        after_json: Some(json!({ "state": "Closed" }).to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    tracing::info!(tenant_id = %p.tenant_id, %provider, actor = %p.actor.id(), "circuit breaker closed by hand");
    Ok(())
}
