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
