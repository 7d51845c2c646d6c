//! Entity mappings: which ERP record is which of ours, per provider and ERP company.

use super::{Db, StoreResult};
use crate::on_conn;
use uuid::Uuid;

/// (provider, external id) for each mapping of one of our records.
pub async fn for_entity(
    db: &Db,
    tenant_id: Uuid,
    entity_type: &str,
    prometheus_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    let sql = "SELECT m.provider, m.external_id FROM integration_entity_mappings m \
        JOIN integration_connections c ON c.tenant_id = m.tenant_id AND c.provider = m.provider \
          AND c.external_company_id = m.external_company_id \
        WHERE m.tenant_id = $1 AND m.entity_type = $2 AND m.prometheus_id = $3";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, String)>(sql)
        .bind(tenant_id).bind(entity_type).bind(prometheus_id).fetch_all(p).await)?,
    )
}

/// One mapping between our record and the ERP's.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Mapping {
    /// Our id.
    pub prometheus_id: String,
    /// The ERP's id.
    pub external_id: String,
    /// The ERP's concurrency token when last seen (QuickBooks SyncToken).
    pub sync_token: Option<String>,
    /// JSON metadata (what the ERP last reported: timestamps, display name, …).
    pub metadata: Option<String>,
}

/// The key of a mapping: tenant, provider, ERP company and entity type.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// Tenant.
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: &'a str,
    /// ERP company.
    pub external_company_id: &'a str,
    /// `Customer`, `Product`, `Order`, `OrderLine`, `Payment`.
    pub entity_type: &'a str,
}

const MAPPING_COLUMNS: &str = "prometheus_id, external_id, sync_token, metadata";

/// The mapping of one of our records.
pub async fn by_ours(db: &Db, s: Scope<'_>, prometheus_id: &str) -> StoreResult<Option<Mapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM integration_entity_mappings WHERE tenant_id = $1 AND provider = $2 \
         AND external_company_id = $3 AND entity_type = $4 AND prometheus_id = $5"
    );
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, Mapping>(&sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(prometheus_id)
        .fetch_optional(p).await)?)
}

/// Every mapping of a scope (our id → theirs).
pub async fn all(db: &Db, s: Scope<'_>) -> StoreResult<Vec<Mapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM integration_entity_mappings WHERE tenant_id = $1 AND provider = $2 \
         AND external_company_id = $3 AND entity_type = $4"
    );
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, Mapping>(&sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type)
        .fetch_all(p).await)?)
}

/// Forgets the mapping of one of our records (its ERP record is gone); true if there was one.
pub async fn forget(db: &Db, s: Scope<'_>, prometheus_id: &str) -> StoreResult<bool> {
    let sql = "DELETE FROM integration_entity_mappings WHERE tenant_id = $1 AND provider = $2 \
        AND external_company_id = $3 AND entity_type = $4 AND prometheus_id = $5";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(prometheus_id)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The mapping of one of the ERP's records.
pub async fn by_theirs(db: &Db, s: Scope<'_>, external_id: &str) -> StoreResult<Option<Mapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM integration_entity_mappings WHERE tenant_id = $1 AND provider = $2 \
         AND external_company_id = $3 AND entity_type = $4 AND external_id = $5"
    );
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, Mapping>(&sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(external_id)
        .fetch_optional(p).await)?)
}

/// Records (or refreshes) a mapping. Both sides are unique per scope: mapping our record to an
/// ERP record already mapped to another of ours fails with a constraint error.
pub async fn upsert(
    db: &Db,
    s: Scope<'_>,
    m: &Mapping,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_entity_mappings (id, tenant_id, provider, external_company_id, entity_type, \
        prometheus_id, external_id, sync_token, metadata, created_at, last_sync_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
        ON CONFLICT (tenant_id, provider, external_company_id, entity_type, prometheus_id) DO UPDATE SET \
        external_id = excluded.external_id, sync_token = excluded.sync_token, \
        metadata = COALESCE(excluded.metadata, integration_entity_mappings.metadata), last_sync_at = excluded.last_sync_at";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type)
        .bind(&m.prometheus_id).bind(&m.external_id).bind(&m.sync_token).bind(&m.metadata).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Updates what we know of an ERP record (its SyncToken and metadata) without touching the
/// pairing; false when it is not mapped.
pub async fn refresh_theirs(
    db: &Db,
    s: Scope<'_>,
    external_id: &str,
    sync_token: Option<&str>,
    metadata: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_entity_mappings SET sync_token = COALESCE($6, sync_token), metadata = $7, \
        last_sync_at = $8 WHERE tenant_id = $1 AND provider = $2 AND external_company_id = $3 AND entity_type = $4 \
        AND external_id = $5";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(external_id)
        .bind(sync_token).bind(metadata).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Every mapping of a scope whose ERP id starts with `prefix` (an invoice's lines).
pub async fn with_external_prefix(
    db: &Db,
    s: Scope<'_>,
    prefix: &str,
) -> StoreResult<Vec<Mapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM integration_entity_mappings WHERE tenant_id = $1 AND provider = $2 \
         AND external_company_id = $3 AND entity_type = $4 AND substr(external_id, 1, $6) = $5 ORDER BY external_id"
    );
    let len = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, Mapping>(&sql)
        .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(prefix).bind(len)
        .fetch_all(p).await)?)
}

/// A row of the mapping viewer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MappingRow {
    /// Our id.
    pub prometheus_id: String,
    /// The ERP's id.
    pub external_id: String,
    /// The ERP's concurrency token when last seen.
    pub sync_token: Option<String>,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last written or seen.
    pub last_sync_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One page of a company's mappings of one entity type, by our id; `record` narrows them to the
/// mapping whose id (ours or the ERP's) it is. Both ways are a range of a unique index.
pub async fn search(
    db: &Db,
    s: Scope<'_>,
    record: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<MappingRow>, i64)> {
    const KEY: &str =
        "tenant_id = $1 AND provider = $2 AND external_company_id = $3 AND entity_type = $4";
    let columns = "prometheus_id, external_id, sync_token, created_at, last_sync_at";
    let (rows, total) = match record {
        Some(id) => {
            let sql = format!(
                "SELECT {columns} FROM integration_entity_mappings WHERE {KEY} AND prometheus_id = $5 \
                 UNION SELECT {columns} FROM integration_entity_mappings WHERE {KEY} AND external_id = $5"
            );
            let rows = on_conn!(db.read(), p => sqlx::query_as::<_, MappingRow>(&sql)
                .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type).bind(id)
                .fetch_all(p).await)?;
            let total = rows.len() as i64;
            (rows, total)
        }
        None => {
            let sql = format!(
                "SELECT {columns} FROM integration_entity_mappings WHERE {KEY} \
                 ORDER BY prometheus_id LIMIT $5 OFFSET $6"
            );
            let rows = on_conn!(db.read(), p => sqlx::query_as::<_, MappingRow>(&sql)
                .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type)
                .bind(limit).bind(offset).fetch_all(p).await)?;
            let count = format!("SELECT COUNT(*) FROM integration_entity_mappings WHERE {KEY}");
            let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar(&count)
                .bind(s.tenant_id).bind(s.provider).bind(s.external_company_id).bind(s.entity_type)
                .fetch_one(p).await)?;
            (rows, total)
        }
    };
    Ok((rows, total))
}
