//! One row per webhook POST, routed or not: the source for webhook success-rate monitoring and
//! the only record of events for companies no tenant is connected to.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A receipt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Receipt {
    /// Id.
    pub id: Uuid,
    /// Provider name.
    pub provider: String,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Whether the signature verified.
    pub signature_ok: bool,
    /// Company ids named in the body (comma-separated).
    pub external_company_id: Option<String>,
    /// The tenant, when every event routed to the same one.
    pub tenant_id: Option<Uuid>,
    /// Whether every event was routed to a tenant.
    pub routed: bool,
    /// Events in the body.
    pub event_count: i64,
    /// Status answered.
    pub status_code: i64,
    /// Body size.
    pub body_bytes: i64,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

const COLUMNS: &str =
    "id, provider, received_at, signature_ok, external_company_id, tenant_id, routed, \
    event_count, status_code, body_bytes, error";

/// Records a receipt in the caller's transaction.
pub async fn insert(tx: &mut Tx, r: &Receipt) -> StoreResult<()> {
    let sql = format!("INSERT INTO integration_webhook_receipts ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)");
    on_tx!(tx, c => sqlx::query(&sql)
        .bind(r.id).bind(&r.provider).bind(r.received_at).bind(r.signature_ok).bind(&r.external_company_id)
        .bind(r.tenant_id).bind(r.routed).bind(r.event_count).bind(r.status_code).bind(r.body_bytes).bind(&r.error)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The newest receipts of a provider.
pub async fn recent(db: &Db, provider: &str, limit: i64) -> StoreResult<Vec<Receipt>> {
    let sql = format!("SELECT {COLUMNS} FROM integration_webhook_receipts WHERE provider = $1 ORDER BY received_at DESC, id DESC LIMIT $2");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, Receipt>(&sql).bind(provider).bind(limit).fetch_all(p).await)?,
    )
}
