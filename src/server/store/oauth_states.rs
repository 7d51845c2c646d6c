//! OAuth `state` values: generated server-side, stored only as a hash, bound to the tenant and
//! user who started the flow, with an expiry; consumed (deleted) on first use.

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who started the flow a `state` belongs to.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StateOwner {
    /// Tenant.
    pub tenant_id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Provider name.
    pub provider: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Stores a state's hash.
pub async fn insert(
    db: &Db,
    state_hash: &str,
    owner: &StateOwner,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO oauth_states (state_hash, tenant_id, user_id, provider, created_at, expires_at) \
        VALUES ($1, $2, $3, $4, $5, $6)";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(state_hash).bind(owner.tenant_id).bind(owner.user_id).bind(&owner.provider).bind(now).bind(owner.expires_at)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes the state and returns whom it belonged to: a second use finds nothing.
pub async fn take(db: &Db, state_hash: &str) -> StoreResult<Option<StateOwner>> {
    let sql = "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING tenant_id, user_id, provider, expires_at";
    Ok(
        on_conn!(db.write(), p => sqlx::query_as::<_, StateOwner>(sql).bind(state_hash).fetch_optional(p).await)?,
    )
}

/// Deletes expired states; returns how many.
pub async fn prune(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM oauth_states WHERE expires_at < $1";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(now).execute(p).await.map(|r| r.rows_affected()))?,
    )
}
