//! A connection's OAuth tokens, stored sealed (AES-256-GCM, key id beside each ciphertext).
//! Plaintext tokens exist only in memory, in `secrecy` types.

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The sealed columns of a connection.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SealedTokens {
    /// Sealed access token.
    pub access_token_encrypted: Option<String>,
    /// Sealed refresh token.
    pub refresh_token_encrypted: Option<String>,
    /// Key id the values were sealed with.
    pub encryption_key_id: Option<String>,
    /// Access token expiry.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Refresh token expiry.
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
}

/// Writes sealed tokens to an existing connection; false when the tenant has no such connection.
pub async fn store(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    t: &SealedTokens,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET access_token_encrypted = $3, refresh_token_encrypted = $4, \
        encryption_key_id = $5, access_token_expires_at = $6, refresh_token_expires_at = $7, modified_at = $8 \
        WHERE tenant_id = $1 AND provider = $2";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(&t.access_token_encrypted).bind(&t.refresh_token_encrypted)
        .bind(&t.encryption_key_id).bind(t.access_token_expires_at).bind(t.refresh_token_expires_at).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Reads the sealed tokens of a connection.
pub async fn load(db: &Db, tenant_id: Uuid, provider: &str) -> StoreResult<Option<SealedTokens>> {
    let sql = "SELECT access_token_encrypted, refresh_token_encrypted, encryption_key_id, access_token_expires_at, \
        refresh_token_expires_at FROM integration_connections WHERE tenant_id = $1 AND provider = $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, SealedTokens>(sql).bind(tenant_id).bind(provider).fetch_optional(p).await)?,
    )
}

/// Disconnects: deletes the tokens and marks the connection NotConnected, keeping the row (and
/// the mappings, which carry the company id) for a later reconnect. The row lets go of the
/// company id, so the company can be connected to another tenant (the id is unique per
/// provider); the company name stays for display.
pub async fn disconnect(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET access_token_encrypted = NULL, refresh_token_encrypted = NULL, \
        credentials_encrypted = NULL, access_token_expires_at = NULL, refresh_token_expires_at = NULL, \
        status = 'NotConnected', reconnect_reason = NULL, external_company_id = NULL, token_refresh_owner = NULL, \
        token_refresh_until = NULL, modified_at = $3 WHERE tenant_id = $1 AND provider = $2";
    let n = on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Stores refreshed tokens and gives back the refresh claim of `owner` in one statement. The
/// tokens are written whoever holds the claim now: a rotated refresh token that is not saved
/// severs the connection for good (reference § 8). A connection disconnected meanwhile keeps
/// no tokens: the disconnect wins.
pub async fn store_refreshed(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    t: &SealedTokens,
    owner: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET access_token_encrypted = $3, refresh_token_encrypted = $4, \
        encryption_key_id = $5, access_token_expires_at = $6, refresh_token_expires_at = $7, modified_at = $8, \
        token_refresh_owner = CASE WHEN token_refresh_owner = $9 THEN NULL ELSE token_refresh_owner END, \
        token_refresh_until = CASE WHEN token_refresh_owner = $9 THEN NULL ELSE token_refresh_until END \
        WHERE tenant_id = $1 AND provider = $2 AND status <> 'NotConnected'";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(&t.access_token_encrypted).bind(&t.refresh_token_encrypted)
        .bind(&t.encryption_key_id).bind(t.access_token_expires_at).bind(t.refresh_token_expires_at).bind(now)
        .bind(owner)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Marks the tenant connected to a NetSuite-style account and stores its sealed credentials in
/// one statement (a connection whose secrets are one document rather than OAuth tokens).
pub async fn connect_with_credentials(
    db: &Db,
    tenant_id: Uuid,
    c: &super::connections::ConnectedCompany<'_>,
    sealed: &str,
    key_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_connections (id, tenant_id, provider, external_company_id, company_name, status, \
        created_at, modified_at, connected_by, credentials_encrypted, encryption_key_id) \
        VALUES ($1, $2, $3, $4, $5, 'Connected', $6, $6, $7, $8, $9) \
        ON CONFLICT (tenant_id, provider) DO UPDATE SET external_company_id = excluded.external_company_id, \
        company_name = excluded.company_name, status = 'Connected', reconnect_reason = NULL, last_sync_error = NULL, \
        modified_at = excluded.modified_at, connected_by = excluded.connected_by, \
        credentials_encrypted = excluded.credentials_encrypted, encryption_key_id = excluded.encryption_key_id";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(c.provider).bind(c.external_company_id).bind(c.company_name)
        .bind(now).bind(c.connected_by).bind(sealed).bind(key_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A connection's sealed credentials and status; None when the tenant never connected.
pub async fn sealed_credentials(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
) -> StoreResult<Option<(Option<String>, String)>> {
    let sql = "SELECT credentials_encrypted, status FROM integration_connections WHERE tenant_id = $1 AND provider = $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (Option<String>, String)>(sql)
        .bind(tenant_id).bind(provider).fetch_optional(p).await)?,
    )
}

/// Sets a connection's status after a credentials check: Connected (the reason cleared) or
/// ReconnectRequired with the reason. A disconnected connection stays disconnected.
pub async fn set_checked_status(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    reconnect_reason: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let status = if reconnect_reason.is_some() {
        "ReconnectRequired"
    } else {
        "Connected"
    };
    let sql =
        "UPDATE integration_connections SET status = $3, reconnect_reason = $4, modified_at = $5 \
        WHERE tenant_id = $1 AND provider = $2 AND status <> 'NotConnected'";
    on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(status).bind(reconnect_reason).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
