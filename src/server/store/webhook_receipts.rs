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

/// Refused POSTs of one (provider, minute, outcome), counted instead of stored one by one.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RefusalCount {
    /// Provider name.
    pub provider: String,
    /// The minute (UTC, seconds zero) they arrived in.
    pub minute: DateTime<Utc>,
    /// Why they were refused (`bad_signature`, `rate_limited`, …).
    pub outcome: String,
    /// How many.
    pub count: i64,
}

/// Adds counts to their (provider, minute, outcome) rows, in one transaction.
pub async fn add_refusals(db: &Db, counts: &[RefusalCount]) -> StoreResult<()> {
    let sql = "INSERT INTO integration_webhook_refusals (provider, minute, outcome, count) \
        VALUES ($1, $2, $3, $4) ON CONFLICT (provider, minute, outcome) \
        DO UPDATE SET count = integration_webhook_refusals.count + excluded.count";
    let mut tx = db.begin().await?;
    for c in counts {
        on_tx!(&mut tx, t => sqlx::query(sql).bind(&c.provider).bind(c.minute).bind(&c.outcome)
            .bind(c.count).execute(t).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await
}

/// A provider's refusal counts from `since` on, oldest first.
pub async fn refusals_since(
    db: &Db,
    provider: &str,
    since: DateTime<Utc>,
) -> StoreResult<Vec<RefusalCount>> {
    let sql = "SELECT provider, minute, outcome, count FROM integration_webhook_refusals \
        WHERE provider = $1 AND minute >= $2 ORDER BY minute, outcome";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, RefusalCount>(sql)
        .bind(provider).bind(since).fetch_all(p).await)?,
    )
}

/// Deletes receipts received before `before`, at most `limit`; returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let sql = "DELETE FROM integration_webhook_receipts WHERE id IN \
        (SELECT id FROM integration_webhook_receipts WHERE received_at < $1 LIMIT $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(limit)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Deletes refusal counts of minutes before `before`; returns how many rows.
pub async fn prune_refusals(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM integration_webhook_refusals WHERE minute < $1";
    Ok(on_conn!(db.write(), p => sqlx::query(sql).bind(before)
        .execute(p).await.map(|r| r.rows_affected()))?)
}
