//! Counts for the integrations dashboard: sync outcomes per time bucket, the last success and
//! failure per entity type, webhook events per day. Each is a bounded range of an index
//! (tenant, provider, time).

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// (status, count) of a tenant's sync logs for one ERP started in [from, to).
pub async fn log_outcomes(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<(String, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM integration_sync_logs \
        WHERE tenant_id = $1 AND provider = $2 AND started_at >= $3 AND started_at < $4 GROUP BY status";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, i64)>(sql)
        .bind(tenant_id).bind(provider).bind(from).bind(to).fetch_all(p).await)?,
    )
}

/// (entity type, status, latest start) of Completed and Failed logs since `from`.
pub async fn entity_latest(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    from: DateTime<Utc>,
) -> StoreResult<Vec<(String, String, DateTime<Utc>)>> {
    let sql = "SELECT entity_type, status, MAX(started_at) FROM integration_sync_logs \
        WHERE tenant_id = $1 AND provider = $2 AND status IN ('Completed', 'Failed') AND started_at >= $3 \
        GROUP BY entity_type, status";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, String, DateTime<Utc>)>(sql)
        .bind(tenant_id).bind(provider).bind(from).fetch_all(p).await)?,
    )
}

/// Failed deliveries since `from` whose cause was the ERP refusing our credentials.
pub async fn auth_failures(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    from: DateTime<Utc>,
) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM integration_sync_logs WHERE tenant_id = $1 AND provider = $2 \
        AND status = 'Failed' AND started_at >= $3 AND error_message LIKE 'authentication failed:%'";
    Ok(on_conn!(db.read(), p => sqlx::query_scalar(sql)
        .bind(tenant_id).bind(provider).bind(from).fetch_one(p).await)?)
}

/// (status, count) of a tenant's webhook events from one ERP received in [from, to).
pub async fn inbox_outcomes(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<(String, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM integration_inbox \
        WHERE tenant_id = $1 AND provider = $2 AND received_at >= $3 AND received_at < $4 GROUP BY status";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, i64)>(sql)
        .bind(tenant_id).bind(provider).bind(from).bind(to).fetch_all(p).await)?,
    )
}
