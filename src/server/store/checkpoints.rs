//! Cursors of incremental pulls (QuickBooks CDC, NetSuite watermarks), per tenant, provider and
//! stream.

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A stored cursor.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Checkpoint {
    /// The cursor (provider-specific text, e.g. an RFC 3339 time).
    pub cursor: Option<String>,
    /// Last successful pull.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last error.
    pub last_error: Option<String>,
}

/// The cursor of a stream.
pub async fn get(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    stream: &str,
) -> StoreResult<Option<Checkpoint>> {
    let sql = "SELECT cursor, last_success_at, last_error FROM integration_sync_checkpoints \
        WHERE tenant_id = $1 AND provider = $2 AND entity_type = $3";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, Checkpoint>(sql)
        .bind(tenant_id).bind(provider).bind(stream).fetch_optional(p).await)?,
    )
}

/// Records a successful pull that advanced the cursor to `cursor`.
pub async fn advance(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    stream: &str,
    cursor: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_sync_checkpoints (id, tenant_id, provider, entity_type, cursor, last_success_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, provider, entity_type) DO UPDATE SET \
        cursor = excluded.cursor, last_success_at = excluded.last_success_at, last_error = NULL, updated_at = excluded.updated_at";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(provider).bind(stream).bind(cursor).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed pull (the cursor stays).
pub async fn failed(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    stream: &str,
    error: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_sync_checkpoints (id, tenant_id, provider, entity_type, last_error, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, provider, entity_type) DO UPDATE SET \
        last_error = excluded.last_error, updated_at = excluded.updated_at";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(provider).bind(stream).bind(error).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
