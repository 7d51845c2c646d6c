//! Tenants: the organisations whose data erp-bridge keeps apart.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A tenant row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique short name used by the CLI.
    pub slug: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Inserts a tenant.
pub async fn insert(tx: &mut Tx, tenant: &Tenant) -> StoreResult<()> {
    let sql = "INSERT INTO tenants (id, name, slug, created_at) VALUES ($1, $2, $3, $4)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(tenant.id)
        .bind(&tenant.name)
        .bind(&tenant.slug)
        .bind(tenant.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Finds a tenant by slug.
pub async fn find_by_slug(db: &Db, slug: &str) -> StoreResult<Option<Tenant>> {
    let sql = "SELECT id, name, slug, created_at FROM tenants WHERE slug = $1";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, Tenant>(sql).bind(slug).fetch_optional(p).await)?,
    )
}

/// Finds a tenant by id.
pub async fn find(db: &Db, id: Uuid) -> StoreResult<Option<Tenant>> {
    let sql = "SELECT id, name, slug, created_at FROM tenants WHERE id = $1";
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, Tenant>(sql).bind(id).fetch_optional(p).await)?)
}
