//! Integration connections as the dashboard reads them. Token columns are never selected here.

use super::{Db, StoreResult};
use crate::on_conn;
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
