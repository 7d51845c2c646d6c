//! The inbox: incoming ERP events, deduplicated by (tenant, provider, external event id) so a
//! re-delivered webhook is recorded once.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An inbox row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboxRow {
    /// Id.
    pub id: Uuid,
    /// Tenant (resolved from the company id).
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: String,
    /// The event's id (or a deterministic hash where the ERP sends none).
    pub external_event_id: String,
    /// Realm / account id.
    pub external_company_id: Option<String>,
    /// `Create`, `Update`, …
    pub event_type: Option<String>,
    /// The ERP's entity name.
    pub entity_type: Option<String>,
    /// The ERP's entity id.
    pub entity_id: Option<String>,
    /// The notification as JSON.
    pub payload: Option<String>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// `Pending`, `InProgress`, `Completed`, `Failed`, `Skipped`.
    pub status: String,
}

/// Records an event unless it is already there; returns whether it was new.
pub async fn insert(tx: &mut Tx, r: &InboxRow) -> StoreResult<bool> {
    let sql = "INSERT INTO integration_inbox (id, tenant_id, provider, external_event_id, external_company_id, \
        event_type, entity_type, entity_id, payload, received_at, status, next_attempt_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) \
        ON CONFLICT (tenant_id, provider, external_event_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(r.id).bind(r.tenant_id).bind(&r.provider).bind(&r.external_event_id).bind(&r.external_company_id)
        .bind(&r.event_type).bind(&r.entity_type).bind(&r.entity_id).bind(&r.payload).bind(r.received_at).bind(&r.status)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The tenant's inbox, newest first.
pub async fn list(db: &Db, tenant_id: Uuid, limit: i64) -> StoreResult<Vec<InboxRow>> {
    let sql = "SELECT id, tenant_id, provider, external_event_id, external_company_id, event_type, entity_type, \
        entity_id, payload, received_at, status FROM integration_inbox WHERE tenant_id = $1 \
        ORDER BY received_at DESC, id DESC LIMIT $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, InboxRow>(sql).bind(tenant_id).bind(limit).fetch_all(p).await)?,
    )
}
