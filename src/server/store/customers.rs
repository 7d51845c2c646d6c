//! Customers. Every query is scoped by tenant.

use super::{Db, StoreResult, Tx};
use crate::domain::commerce::{Address, Customer, CustomerInput};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The fields of a new customer (the minimal form used by seeding and tests).
#[derive(Clone, Debug)]
pub struct NewCustomer {
    /// Tenant.
    pub tenant_id: Uuid,
    /// Display name.
    pub name: String,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: Uuid,
    customer_number: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    billing_line1: Option<String>,
    billing_line2: Option<String>,
    billing_city: Option<String>,
    billing_region: Option<String>,
    billing_postal_code: Option<String>,
    billing_country: Option<String>,
    shipping_line1: Option<String>,
    shipping_line2: Option<String>,
    shipping_city: Option<String>,
    shipping_region: Option<String>,
    shipping_postal_code: Option<String>,
    shipping_country: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Customer {
            id: r.id,
            customer_number: r.customer_number,
            name: r.name,
            email: r.email,
            phone: r.phone,
            billing: Address {
                line1: r.billing_line1,
                line2: r.billing_line2,
                city: r.billing_city,
                region: r.billing_region,
                postal_code: r.billing_postal_code,
                country: r.billing_country,
            },
            shipping: Address {
                line1: r.shipping_line1,
                line2: r.shipping_line2,
                city: r.shipping_city,
                region: r.shipping_region,
                postal_code: r.shipping_postal_code,
                country: r.shipping_country,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            sync: Vec::new(),
        }
    }
}

const COLUMNS: &str = "id, customer_number, name, email, phone, billing_line1, billing_line2, billing_city, \
    billing_region, billing_postal_code, billing_country, shipping_line1, shipping_line2, shipping_city, \
    shipping_region, shipping_postal_code, shipping_country, version, created_at, updated_at";

/// Inserts a customer with only name and contacts; returns (id, number).
pub async fn insert(tx: &mut Tx, c: &NewCustomer, now: DateTime<Utc>) -> StoreResult<(Uuid, i64)> {
    let input = CustomerInput {
        name: c.name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        ..Default::default()
    };
    let created = create(tx, c.tenant_id, &input, now).await?;
    Ok((created.id, created.customer_number))
}

/// Creates a customer with the tenant's next customer number.
pub async fn create(
    tx: &mut Tx,
    tenant_id: Uuid,
    c: &CustomerInput,
    now: DateTime<Utc>,
) -> StoreResult<Customer> {
    let sql = format!(
        "INSERT INTO customers (id, tenant_id, customer_number, name, email, phone, billing_line1, billing_line2, \
         billing_city, billing_region, billing_postal_code, billing_country, shipping_line1, shipping_line2, \
         shipping_city, shipping_region, shipping_postal_code, shipping_country, created_at, updated_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(customer_number), 1000) + 1 FROM customers WHERE tenant_id = $2), \
         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING {COLUMNS}"
    );
    let (b, s) = (&c.billing, &c.shipping);
    let row = on_tx!(tx, conn => sqlx::query_as::<_, CustomerRow>(&sql)
        .bind(Uuid::now_v7()).bind(tenant_id).bind(&c.name).bind(&c.email).bind(&c.phone)
        .bind(&b.line1).bind(&b.line2).bind(&b.city).bind(&b.region).bind(&b.postal_code).bind(&b.country)
        .bind(&s.line1).bind(&s.line2).bind(&s.city).bind(&s.region).bind(&s.postal_code).bind(&s.country)
        .bind(now)
        .fetch_one(conn).await)?;
    Ok(row.into())
}

/// Replaces a customer's fields and bumps its version; None when not in the tenant.
pub async fn update(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    c: &CustomerInput,
    now: DateTime<Utc>,
) -> StoreResult<Option<Customer>> {
    let sql = format!(
        "UPDATE customers SET name = $3, email = $4, phone = $5, billing_line1 = $6, billing_line2 = $7, \
         billing_city = $8, billing_region = $9, billing_postal_code = $10, billing_country = $11, \
         shipping_line1 = $12, shipping_line2 = $13, shipping_city = $14, shipping_region = $15, \
         shipping_postal_code = $16, shipping_country = $17, updated_at = $18, version = version + 1 \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    let (b, s) = (&c.billing, &c.shipping);
    let row = on_tx!(tx, conn => sqlx::query_as::<_, CustomerRow>(&sql)
        .bind(tenant_id).bind(id).bind(&c.name).bind(&c.email).bind(&c.phone)
        .bind(&b.line1).bind(&b.line2).bind(&b.city).bind(&b.region).bind(&b.postal_code).bind(&b.country)
        .bind(&s.line1).bind(&s.line2).bind(&s.city).bind(&s.region).bind(&s.postal_code).bind(&s.country)
        .bind(now)
        .fetch_optional(conn).await)?;
    Ok(row.map(Into::into))
}

/// A customer of the tenant.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Customer>> {
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2");
    let row = on_conn!(db.read(), p => sqlx::query_as::<_, CustomerRow>(&sql).bind(tenant_id).bind(id).fetch_optional(p).await)?;
    Ok(row.map(Into::into))
}

/// One page of the tenant's customers by number, and the total count.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Customer>, i64)> {
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 ORDER BY customer_number LIMIT $2 OFFSET $3");
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, CustomerRow>(&sql)
        .bind(tenant_id).bind(limit).bind(offset).fetch_all(p).await)?;
    let count_sql = "SELECT COUNT(*) FROM customers WHERE tenant_id = $1";
    let total: i64 =
        on_conn!(db.read(), p => sqlx::query_scalar(count_sql).bind(tenant_id).fetch_one(p).await)?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Finds a customer's id by its per-tenant number.
pub async fn find_id_by_number(db: &Db, tenant_id: Uuid, number: i64) -> StoreResult<Option<Uuid>> {
    let sql = "SELECT id FROM customers WHERE tenant_id = $1 AND customer_number = $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar(sql).bind(tenant_id).bind(number).fetch_optional(p).await)?,
    )
}

/// Finds a customer's name (tenant-scoped).
pub async fn find_name(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<String>> {
    let sql = "SELECT name FROM customers WHERE tenant_id = $1 AND id = $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar(sql).bind(tenant_id).bind(id).fetch_optional(p).await)?,
    )
}

/// A customer of the tenant, read inside a transaction.
pub async fn get_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Customer>> {
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2");
    let row = on_tx!(tx, c => sqlx::query_as::<_, CustomerRow>(&sql).bind(tenant_id).bind(id).fetch_optional(c).await)?;
    Ok(row.map(Into::into))
}

/// Ids of the tenant's customers, by number (manual sync), at most `limit`.
pub async fn all_ids(
    db: &Db,
    tenant_id: Uuid,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> StoreResult<Vec<Uuid>> {
    let sql = "SELECT id FROM customers WHERE tenant_id = $1 AND ($2 IS NULL OR updated_at >= $2) \
        ORDER BY customer_number LIMIT $3";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar(sql).bind(tenant_id).bind(since).bind(limit).fetch_all(p).await)?,
    )
}

/// The customers the reconciliation report compares for `from`..`to`: those created or changed
/// then and those whose orders were placed then, by number, at most `limit`.
pub async fn touched_between(
    db: &Db,
    tenant_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<Customer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND ((updated_at >= $2 AND updated_at < $3) \
         OR id IN (SELECT customer_id FROM orders WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3)) \
         ORDER BY customer_number LIMIT $4"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, CustomerRow>(&sql)
        .bind(tenant_id).bind(from).bind(to).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
