//! Products. Every query is scoped by tenant.

use super::{Db, StoreResult, Tx};
use crate::domain::commerce::Product;
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    sku: String,
    name: String,
    unit_price: i64,
    currency: String,
    version: i64,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            sku: r.sku,
            name: r.name,
            unit_price: r.unit_price,
            currency: r.currency,
            version: r.version,
        }
    }
}

const COLUMNS: &str = "id, sku, name, unit_price, currency, version";

/// Creates a product.
pub async fn create(
    tx: &mut Tx,
    tenant_id: Uuid,
    sku: &str,
    name: &str,
    unit_price: i64,
    currency: &str,
    now: DateTime<Utc>,
) -> StoreResult<Product> {
    let sql = format!(
        "INSERT INTO products (id, tenant_id, sku, name, unit_price, currency, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, c => sqlx::query_as::<_, ProductRow>(&sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(sku).bind(name).bind(unit_price).bind(currency).bind(now)
        .fetch_one(c).await)?;
    Ok(row.into())
}

/// Updates a product; None when not in the tenant.
pub async fn update(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    (sku, name, unit_price, currency): (&str, &str, i64, &str),
    now: DateTime<Utc>,
) -> StoreResult<Option<Product>> {
    let sql = format!(
        "UPDATE products SET sku = $3, name = $4, unit_price = $5, currency = $6, updated_at = $7, \
         version = version + 1 WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, c => sqlx::query_as::<_, ProductRow>(&sql)
        .bind(tenant_id).bind(id).bind(sku).bind(name).bind(unit_price).bind(currency).bind(now)
        .fetch_optional(c).await)?;
    Ok(row.map(Into::into))
}

/// A product of the tenant.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE tenant_id = $1 AND id = $2");
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, ProductRow>(&sql).bind(tenant_id).bind(id).fetch_optional(p).await)?
        .map(Into::into))
}

/// A product of the tenant, read inside a transaction.
pub async fn get_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE tenant_id = $1 AND id = $2");
    Ok(on_tx!(tx, c => sqlx::query_as::<_, ProductRow>(&sql).bind(tenant_id).bind(id).fetch_optional(c).await)?
        .map(Into::into))
}

/// One page of products by SKU, and the total.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Product>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE tenant_id = $1 ORDER BY sku LIMIT $2 OFFSET $3"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, ProductRow>(&sql)
        .bind(tenant_id).bind(limit).bind(offset).fetch_all(p).await)?;
    let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE tenant_id = $1")
        .bind(tenant_id).fetch_one(p).await)?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}
