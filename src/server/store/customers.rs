//! Customers (the part the foundation needs: creating demo customers and finding one by number
//! for `user add --role Customer`).

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The fields of a new customer.
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

/// Inserts a customer with the tenant's next customer number; returns (id, number).
pub async fn insert(tx: &mut Tx, c: &NewCustomer, now: DateTime<Utc>) -> StoreResult<(Uuid, i64)> {
    let id = Uuid::now_v7();
    let sql = "INSERT INTO customers (id, tenant_id, customer_number, name, email, phone, created_at, updated_at) \
        VALUES ($1, $2, (SELECT COALESCE(MAX(customer_number), 1000) + 1 FROM customers WHERE tenant_id = $2), \
        $3, $4, $5, $6, $6) RETURNING customer_number";
    let number: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(id).bind(c.tenant_id).bind(&c.name).bind(&c.email).bind(&c.phone).bind(now)
        .fetch_one(conn).await)?;
    Ok((id, number))
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
