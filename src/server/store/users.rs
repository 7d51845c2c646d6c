//! Users, their password hashes and sign-in throttling state. Every query but the sign-in lookup
//! (which finds the tenant from the email) is scoped by tenant.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A user row.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Login email, lower-case.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// Role name.
    pub role: String,
    /// The customer of a Customer user.
    pub customer_id: Option<Uuid>,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Consecutive failed sign-ins.
    pub failed_login_count: i64,
    /// Locked until this time after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last successful sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, tenant_id, email, display_name, password_hash, role, customer_id, \
    is_active, failed_login_count, locked_until, last_login_at, created_at";

/// Inserts a user.
pub async fn insert(tx: &mut Tx, u: &UserRow) -> StoreResult<()> {
    let sql =
        format!("INSERT INTO users ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)");
    on_tx!(tx, c => sqlx::query(&sql)
        .bind(u.id).bind(u.tenant_id).bind(&u.email).bind(&u.display_name)
        .bind(&u.password_hash).bind(&u.role).bind(u.customer_id).bind(u.is_active)
        .bind(u.failed_login_count).bind(u.locked_until).bind(u.last_login_at).bind(u.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Finds a user by login email (emails are unique across tenants).
pub async fn find_by_email(db: &Db, email: &str) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_optional(p).await)?,
    )
}

/// Finds a user of `tenant_id` by id.
pub async fn find(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, UserRow>(&sql)
        .bind(tenant_id).bind(id).fetch_optional(p).await)?)
}

/// Finds an active user by id alone: only for resolving a session, whose record holds the id.
pub async fn find_active_for_session(db: &Db, id: Uuid) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND is_active");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await)?,
    )
}

/// Lists the users of a tenant, by email.
pub async fn list(db: &Db, tenant_id: Uuid) -> StoreResult<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY email");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, UserRow>(&sql).bind(tenant_id).fetch_all(p).await)?,
    )
}

/// Records a successful sign-in.
pub async fn record_login(db: &Db, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE users SET failed_login_count = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1";
    on_conn!(db.write(), p => sqlx::query(sql).bind(id).bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Serializes changes to a tenant's users' access (role, active) in the caller's transaction, so
/// two Admins demoting each other cannot both pass the "one active Admin remains" check.
pub async fn lock_tenant_access(tx: &mut Tx, tenant_id: Uuid) -> StoreResult<()> {
    on_tx!(tx, c => sqlx::query("UPDATE tenants SET name = name WHERE id = $1")
        .bind(tenant_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Active Admins of a tenant other than `except`.
pub async fn other_active_admins(tx: &mut Tx, tenant_id: Uuid, except: Uuid) -> StoreResult<i64> {
    let sql = "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id <> $2 AND role = 'Admin' AND is_active";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(tenant_id).bind(except).fetch_one(c).await)?)
}

/// A user of the tenant, read in the caller's transaction.
pub async fn find_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_tx!(tx, c => sqlx::query_as::<_, UserRow>(&sql).bind(tenant_id).bind(id).fetch_optional(c).await)?,
    )
}

/// Sets a user's role, customer and whether it may sign in.
pub async fn set_access(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    role: &str,
    customer_id: Option<Uuid>,
    is_active: bool,
) -> StoreResult<()> {
    let sql = "UPDATE users SET role = $3, customer_id = $4, is_active = $5 WHERE tenant_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(tenant_id).bind(id).bind(role).bind(customer_id).bind(is_active)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
