//! Integration connections as the dashboard reads them. Token columns are never selected here.

use super::{Db, StoreResult, Tx};
use crate::domain::connection::ConnectionSettings;
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The non-secret part of a connection row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConnectionRow {
    /// Provider name.
    pub provider: String,
    /// Status name.
    pub status: String,
    /// Realm / account id.
    pub external_company_id: Option<String>,
    /// Company name.
    pub company_name: Option<String>,
    /// Last successful sync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Last sync error.
    pub last_sync_error: Option<String>,
    /// Why a reconnect is required.
    pub reconnect_reason: Option<String>,
    /// Auto-sync setting.
    pub auto_sync_enabled: bool,
}

/// Lists a tenant's connections.
pub async fn list(db: &Db, tenant_id: Uuid) -> StoreResult<Vec<ConnectionRow>> {
    let sql = "SELECT provider, status, external_company_id, company_name, last_sync_at, \
        last_sync_error, reconnect_reason, auto_sync_enabled \
        FROM integration_connections WHERE tenant_id = $1 ORDER BY provider";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, ConnectionRow>(sql).bind(tenant_id).fetch_all(p).await)?,
    )
}

/// What the outbox needs to know of a connection when an event is raised.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryTarget {
    /// Provider name.
    pub provider: String,
    /// Status name.
    pub status: String,
    /// Auto-sync setting.
    pub auto_sync_enabled: bool,
    /// Entity toggles.
    pub sync_customers: bool,
    /// Entity toggles.
    pub sync_invoices: bool,
    /// Entity toggles.
    pub sync_payments: bool,
}

/// The tenant's connections that have not been disconnected, read in the caller's transaction
/// so the event and the decision commit together.
pub async fn delivery_targets(
    tx: &mut super::Tx,
    tenant_id: Uuid,
) -> StoreResult<Vec<DeliveryTarget>> {
    let sql = "SELECT provider, status, auto_sync_enabled, sync_customers, sync_invoices, sync_payments \
        FROM integration_connections WHERE tenant_id = $1 AND status <> 'NotConnected' ORDER BY provider";
    Ok(
        crate::on_tx!(tx, c => sqlx::query_as::<_, DeliveryTarget>(sql).bind(tenant_id).fetch_all(c).await)?,
    )
}

/// What the worker needs before delivering for a (tenant, provider).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WorkerView {
    /// Status name.
    pub status: String,
    /// Realm / account id.
    pub external_company_id: Option<String>,
    /// Diagnostic mode ends at.
    pub diagnostic_until: Option<DateTime<Utc>>,
}

/// The worker's view of one connection.
pub async fn worker_view(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
) -> StoreResult<Option<WorkerView>> {
    let sql = "SELECT status, external_company_id, diagnostic_until FROM integration_connections \
        WHERE tenant_id = $1 AND provider = $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, WorkerView>(sql).bind(tenant_id).bind(provider).fetch_optional(p).await)?,
    )
}

/// Parks a connection: the ERP refused our credentials. Its events wait without using retries.
/// Only a connection that is still Connected — to `company`, when named — is parked: a refusal
/// that arrives after a disconnect (or a reconnect to another company) must not undo it.
/// Returns whether the connection was parked.
pub async fn mark_reconnect_required(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    company: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET status = 'ReconnectRequired', reconnect_reason = $3, modified_at = $4 \
        WHERE tenant_id = $1 AND provider = $2 AND status = 'Connected' \
          AND ($5 IS NULL OR external_company_id = $5)";
    let n = on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(reason).bind(now).bind(company)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a successful sync on the connection.
pub async fn touch_last_sync(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "UPDATE integration_connections SET last_sync_at = $3, last_sync_error = NULL \
        WHERE tenant_id = $1 AND provider = $2 AND status = 'Connected'";
    on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records what went wrong in a pass that delivered nothing (the dashboard's "last error"); the
/// next successful sync clears it.
pub async fn record_sync_error(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    error: &str,
) -> StoreResult<()> {
    let sql = "UPDATE integration_connections SET last_sync_error = $3 \
        WHERE tenant_id = $1 AND provider = $2 AND status <> 'NotConnected'";
    on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(error)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Settings a connection is created or reconnected with.
#[derive(Clone, Debug)]
pub struct ConnectedCompany<'a> {
    /// Provider name.
    pub provider: &'a str,
    /// Realm / account id.
    pub external_company_id: &'a str,
    /// Company name.
    pub company_name: &'a str,
    /// Who connected it.
    pub connected_by: &'a str,
}

/// Marks the tenant connected to a company (creating the row if needed). Token columns are
/// written by the connectors; this sets status and identity.
pub async fn upsert_connected(
    db: &Db,
    tenant_id: Uuid,
    c: &ConnectedCompany<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_connections (id, tenant_id, provider, external_company_id, company_name, status, \
        created_at, modified_at, connected_by) VALUES ($1, $2, $3, $4, $5, 'Connected', $6, $6, $7) \
        ON CONFLICT (tenant_id, provider) DO UPDATE SET external_company_id = excluded.external_company_id, \
        company_name = excluded.company_name, status = 'Connected', reconnect_reason = NULL, \
        modified_at = excluded.modified_at, connected_by = excluded.connected_by";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(c.provider).bind(c.external_company_id).bind(c.company_name)
        .bind(now).bind(c.connected_by)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A connection's settings; None when the tenant never connected the provider.
pub async fn settings(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
) -> StoreResult<Option<ConnectionSettings>> {
    let sql = "SELECT auto_sync_enabled, sync_customers, sync_invoices, sync_payments, \
        pull_frequency_minutes, diagnostic_until, deposit_account_id FROM integration_connections \
        WHERE tenant_id = $1 AND provider = $2";
    type Row = (
        bool,
        bool,
        bool,
        bool,
        i64,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let row = on_conn!(db.read(), p => sqlx::query_as::<_, Row>(sql)
        .bind(tenant_id).bind(provider).fetch_optional(p).await)?;
    Ok(row.map(|r| ConnectionSettings {
        auto_sync_enabled: r.0,
        sync_customers: r.1,
        sync_invoices: r.2,
        sync_payments: r.3,
        pull_frequency_minutes: r.4,
        diagnostic_until: r.5,
        deposit_account_id: r.6,
    }))
}

/// Replaces a connection's settings; false when the tenant has no such connection.
pub async fn update_settings(
    tx: &mut Tx,
    tenant_id: Uuid,
    provider: &str,
    s: &ConnectionSettings,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET auto_sync_enabled = $3, sync_customers = $4, sync_invoices = $5, \
        sync_payments = $6, pull_frequency_minutes = $7, diagnostic_until = $8, modified_at = $9, \
        deposit_account_id = $10 WHERE tenant_id = $1 AND provider = $2";
    let n = on_tx!(tx, p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(s.auto_sync_enabled).bind(s.sync_customers).bind(s.sync_invoices)
        .bind(s.sync_payments).bind(s.pull_frequency_minutes).bind(s.diagnostic_until).bind(now)
        .bind(&s.deposit_account_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The tenant connected to an ERP company (webhook routing via the unique (provider,
/// external_company_id)); None when no tenant is.
pub async fn tenant_for_company(
    db: &Db,
    provider: &str,
    external_company_id: &str,
) -> StoreResult<Option<Uuid>> {
    let sql = "SELECT tenant_id FROM integration_connections WHERE provider = $1 AND external_company_id = $2 \
        AND status <> 'NotConnected'";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar(sql).bind(provider).bind(external_company_id).fetch_optional(p).await)?,
    )
}

/// Claims the right to refresh a connection's tokens (database single-flight across
/// processes): true when `owner` now holds it until `until`. A claim left by a crashed
/// process expires.
pub async fn claim_token_refresh(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_connections SET token_refresh_owner = $3, token_refresh_until = $4 \
        WHERE tenant_id = $1 AND provider = $2 AND (token_refresh_owner IS NULL OR token_refresh_until < $5)";
    let n = on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(owner).bind(until).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives a refresh claim back (only the owner's own).
pub async fn release_token_refresh(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    owner: &str,
) -> StoreResult<()> {
    let sql = "UPDATE integration_connections SET token_refresh_owner = NULL, token_refresh_until = NULL \
        WHERE tenant_id = $1 AND provider = $2 AND token_refresh_owner = $3";
    on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(owner)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Connected connections of a provider with their pull frequency: (tenant, company id, minutes).
pub async fn connected(db: &Db, provider: &str) -> StoreResult<Vec<(Uuid, String, i64)>> {
    let sql = "SELECT tenant_id, external_company_id, pull_frequency_minutes FROM integration_connections \
        WHERE provider = $1 AND status = 'Connected' AND external_company_id IS NOT NULL ORDER BY tenant_id";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (Uuid, String, i64)>(sql).bind(provider).fetch_all(p).await)?,
    )
}

/// Marks the tenant connected to a company and stores its sealed tokens in one statement, so
/// no worker ever sees a Connected row without tokens.
pub async fn connect_with_tokens(
    db: &Db,
    tenant_id: Uuid,
    c: &ConnectedCompany<'_>,
    t: &super::tokens::SealedTokens,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_connections (id, tenant_id, provider, external_company_id, company_name, status, \
        created_at, modified_at, connected_by, access_token_encrypted, refresh_token_encrypted, encryption_key_id, \
        access_token_expires_at, refresh_token_expires_at) \
        VALUES ($1, $2, $3, $4, $5, 'Connected', $6, $6, $7, $8, $9, $10, $11, $12) \
        ON CONFLICT (tenant_id, provider) DO UPDATE SET external_company_id = excluded.external_company_id, \
        company_name = excluded.company_name, status = 'Connected', reconnect_reason = NULL, last_sync_error = NULL, \
        modified_at = excluded.modified_at, connected_by = excluded.connected_by, \
        access_token_encrypted = excluded.access_token_encrypted, refresh_token_encrypted = excluded.refresh_token_encrypted, \
        encryption_key_id = excluded.encryption_key_id, access_token_expires_at = excluded.access_token_expires_at, \
        refresh_token_expires_at = excluded.refresh_token_expires_at, token_refresh_owner = NULL, token_refresh_until = NULL";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(c.provider).bind(c.external_company_id).bind(c.company_name)
        .bind(now).bind(c.connected_by).bind(&t.access_token_encrypted).bind(&t.refresh_token_encrypted)
        .bind(&t.encryption_key_id).bind(t.access_token_expires_at).bind(t.refresh_token_expires_at)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
