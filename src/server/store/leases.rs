//! Worker leases: one owner per (tenant, provider, purpose) across every process sharing the
//! database. A lease carries a fresh token each time it changes hands; rows claimed under a lease
//! carry its token, so an owner that lost its lease can no longer settle them (fencing).

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Takes the lease if it is free, expired, or already ours; returns its token (a new one when it
/// changed hands, the same one when renewed).
pub async fn acquire(
    db: &Db,
    (tenant_id, provider, purpose): (Uuid, &str, &str),
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Option<Uuid>> {
    let sql = "INSERT INTO worker_leases (tenant_id, provider, purpose, owner, lease_token, locked_until, heartbeat_at, acquired_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
        ON CONFLICT (tenant_id, provider, purpose) DO UPDATE SET \
          lease_token = CASE WHEN worker_leases.owner = excluded.owner AND worker_leases.locked_until >= $7 \
                             THEN worker_leases.lease_token ELSE excluded.lease_token END, \
          owner = excluded.owner, locked_until = excluded.locked_until, heartbeat_at = excluded.heartbeat_at, \
          acquired_at = CASE WHEN worker_leases.owner = excluded.owner THEN worker_leases.acquired_at ELSE excluded.acquired_at END \
        WHERE worker_leases.locked_until < $7 OR worker_leases.owner = excluded.owner \
        RETURNING lease_token";
    Ok(on_conn!(db.write(), p => sqlx::query_scalar::<_, Uuid>(sql)
        .bind(tenant_id).bind(provider).bind(purpose).bind(owner).bind(Uuid::new_v4()).bind(until).bind(now)
        .fetch_optional(p).await)?)
}

/// Extends a lease we hold; false when it is no longer ours (expired and taken).
pub async fn heartbeat(
    db: &Db,
    (tenant_id, provider, purpose): (Uuid, &str, &str),
    token: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE worker_leases SET locked_until = $5, heartbeat_at = $6 \
        WHERE tenant_id = $1 AND provider = $2 AND purpose = $3 AND lease_token = $4";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(purpose).bind(token).bind(until).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives a lease up so another process need not wait for it to expire.
pub async fn release(
    db: &Db,
    (tenant_id, provider, purpose): (Uuid, &str, &str),
    token: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "UPDATE worker_leases SET locked_until = $5 WHERE tenant_id = $1 AND provider = $2 AND purpose = $3 AND lease_token = $4";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(purpose).bind(token).bind(now - chrono::TimeDelta::microseconds(1))
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
