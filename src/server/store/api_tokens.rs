//! Per-tenant API tokens for the JSON API. Only the SHA-256 of the secret is stored.

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An API token row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiTokenRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name given at creation.
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// First characters of the secret, for recognition.
    pub token_prefix: String,
    /// Role the token acts with.
    pub role: String,
    /// User who created it.
    pub created_by: Uuid,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, tenant_id, name, token_hash, token_prefix, role, created_by, created_at, \
    last_used_at, expires_at, revoked_at";

/// Inserts a token.
pub async fn insert(db: &Db, t: &ApiTokenRow) -> StoreResult<()> {
    let sql =
        format!("INSERT INTO api_tokens ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)");
    on_conn!(db.write(), p => sqlx::query(&sql)
        .bind(t.id).bind(t.tenant_id).bind(&t.name).bind(&t.token_hash).bind(&t.token_prefix)
        .bind(&t.role).bind(t.created_by).bind(t.created_at).bind(t.last_used_at)
        .bind(t.expires_at).bind(t.revoked_at)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Finds a usable (not revoked, not expired) token by the hash of its secret.
pub async fn find_usable_by_hash(
    db: &Db,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ApiTokenRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2)"
    );
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, ApiTokenRow>(&sql)
        .bind(hash).bind(now).fetch_optional(p).await)?,
    )
}

/// Lists a tenant's tokens, newest first.
pub async fn list(db: &Db, tenant_id: Uuid) -> StoreResult<Vec<ApiTokenRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at DESC");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, ApiTokenRow>(&sql).bind(tenant_id).fetch_all(p).await)?,
    )
}

/// Revokes a token of the tenant; returns whether a token of that tenant was found.
pub async fn revoke(db: &Db, tenant_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
    let sql = "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2";
    let done = on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(id).bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Notes a use of the token. Only writes when the last note is older than a minute, so heavy
/// API use does not turn every read into a write.
pub async fn touch(db: &Db, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let threshold = now - chrono::TimeDelta::minutes(1);
    let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 \
        AND (last_used_at IS NULL OR last_used_at < $3)";
    on_conn!(db.write(), p => sqlx::query(sql).bind(id).bind(now).bind(threshold).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
