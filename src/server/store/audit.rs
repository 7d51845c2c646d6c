//! Audit events: who changed what, when, with the before and after state.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One audit event.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// Tenant (None for system-wide events).
    pub tenant_id: Option<Uuid>,
    /// `User`, `ApiToken`, `System`, or a provider name for ERP-originated changes.
    pub actor_kind: String,
    /// User or token id.
    pub actor_id: Option<String>,
    /// What happened (`user.created`, `order_item.status_changed`, …).
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// Order context, for order and order-item changes.
    pub order_id: Option<Uuid>,
    /// State before, as JSON.
    pub before_json: Option<String>,
    /// State after, as JSON.
    pub after_json: Option<String>,
    /// Request id of the HTTP request that caused it.
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Records an audit event in the caller's transaction.
pub async fn record(tx: &mut Tx, e: &AuditEvent) -> StoreResult<()> {
    let sql =
        "INSERT INTO audit_events (id, tenant_id, actor_kind, actor_id, action, entity_type, \
        entity_id, order_id, before_json, after_json, request_id, created_at) \
        VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(e.tenant_id).bind(&e.actor_kind).bind(&e.actor_id)
        .bind(&e.action).bind(&e.entity_type).bind(&e.entity_id).bind(e.order_id)
        .bind(&e.before_json).bind(&e.after_json).bind(&e.request_id).bind(e.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes audit events recorded before `before`, at most `limit`; returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let sql = "DELETE FROM audit_events WHERE id IN \
        (SELECT id FROM audit_events WHERE created_at < $1 LIMIT $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(limit)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}
