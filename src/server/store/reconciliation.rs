//! Differences of the reconciliation report a person dismissed: each remembered by its key, so
//! the report stops listing it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};

/// Remembers a dismissal (again is a no-op).
pub async fn dismiss(
    tx: &mut Tx,
    tenant_id: Uuid,
    provider: &str,
    key: &str,
    by: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO reconciliation_dismissals (tenant_id, provider, drift_key, dismissed_by, dismissed_at) \
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, provider, drift_key) DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql).bind(tenant_id).bind(provider).bind(key).bind(by).bind(now)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The keys dismissed for the tenant and ERP.
pub async fn dismissed(db: &Db, tenant_id: Uuid, provider: &str) -> StoreResult<HashSet<String>> {
    let sql =
        "SELECT drift_key FROM reconciliation_dismissals WHERE tenant_id = $1 AND provider = $2";
    let keys: Vec<String> = on_conn!(db.read(), p => sqlx::query_scalar(sql)
        .bind(tenant_id).bind(provider).fetch_all(p).await)?;
    Ok(keys.into_iter().collect())
}
