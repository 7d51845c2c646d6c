//! Reads for the audit export: sync logs and audit events of a time range in (time, id) order,
//! one keyset page at a time, so an export of any size holds one page in memory. The keyset — which
//! starts at (from, the nil id) — is the range's only lower bound, a row-value comparison both
//! backends read as where to enter the (tenant, time, id) index. Beside a separate `time >= from`
//! SQLite entered at `from` and filtered, and PostgreSQL did the same with an
//! `a > x OR (a = x AND id > y)` keyset: every page re-read the ones before it (1,000,000 rows took
//! 74 s and 185 s; benches/console.rs).

use super::sync_logs::SyncLogRow;
use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where the previous page ended: (time, id) of its last row.
pub type Cursor = Option<(DateTime<Utc>, Uuid)>;

/// The next page of a tenant's sync logs started in [from, to).
pub async fn sync_logs_after(
    db: &Db,
    tenant_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Cursor,
    limit: i64,
) -> StoreResult<Vec<SyncLogRow>> {
    let (at, id) = after.unwrap_or((from, Uuid::nil()));
    let sql = "SELECT id, tenant_id, provider, entity_type, entity_id, external_id, event_type, outbox_id, direction, \
        status, error_message, NULL AS request_payload, NULL AS response_payload, started_at, completed_at, duration_ms, \
        retry_count, correlation_id FROM integration_sync_logs \
        WHERE tenant_id = $1 AND (started_at, id) > ($2, $3) AND started_at < $4 \
        ORDER BY started_at, id LIMIT $5";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, SyncLogRow>(sql)
        .bind(tenant_id).bind(at).bind(id).bind(to).bind(limit).fetch_all(p).await)?,
    )
}

/// An audit event as exported.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    /// Id.
    pub id: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// `user` or `api_token` or `system`.
    pub actor_kind: String,
    /// Who.
    pub actor_id: Option<String>,
    /// What.
    pub action: String,
    /// On what kind of record.
    pub entity_type: String,
    /// On which record.
    pub entity_id: String,
    /// Before (JSON).
    pub before_json: Option<String>,
    /// After (JSON).
    pub after_json: Option<String>,
}

/// The next page of a tenant's audit events made in [from, to).
pub async fn audit_after(
    db: &Db,
    tenant_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Cursor,
    limit: i64,
) -> StoreResult<Vec<AuditRow>> {
    let (at, id) = after.unwrap_or((from, Uuid::nil()));
    let sql = "SELECT id, created_at, actor_kind, actor_id, action, entity_type, entity_id, before_json, after_json \
        FROM audit_events WHERE tenant_id = $1 AND (created_at, id) > ($2, $3) AND created_at < $4 \
        ORDER BY created_at, id LIMIT $5";
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, AuditRow>(sql)
        .bind(tenant_id).bind(at).bind(id).bind(to).bind(limit).fetch_all(p).await)?)
}
