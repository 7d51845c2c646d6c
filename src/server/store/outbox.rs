//! The transactional outbox table: enqueue (inside the caller's transaction), claim under a
//! lease, complete with fencing, and the reads and retries the console needs.
//!
//! Dialect difference, isolated here: on PostgreSQL the claim's inner SELECT adds
//! `FOR UPDATE SKIP LOCKED`, so even two claimers that somehow both believe they hold a lease
//! never take the same row; SQLite has a single writer and needs no row locks.

use super::{Backend, Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Outbox statuses (DESIGN § 13).
pub mod status {
    /// Waiting for its first attempt.
    pub const PENDING: &str = "Pending";
    /// Claimed by a worker.
    pub const PROCESSING: &str = "Processing";
    /// Delivered (or recorded as skipped; `last_error` says why).
    pub const COMPLETED: &str = "Completed";
    /// Failed; retried at `scheduled_for` (NULL: needs a manual retry).
    pub const FAILED: &str = "Failed";
    /// Retries exhausted.
    pub const ABANDONED: &str = "Abandoned";
}

/// An outbox row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// `OrderPaid`, `CustomerCreated`, …
    pub event_type: String,
    /// `Order`, `Customer`, `Payment`.
    pub entity_type: String,
    /// Our record id.
    pub entity_id: String,
    /// The canonical record as JSON.
    pub payload: String,
    /// `{provider}:{event}:{entity_type}:{entity_id}:{version}`.
    pub idempotency_key: Option<String>,
    /// Status.
    pub status: String,
    /// Provider name; NULL when no provider was connected.
    pub target_system: Option<String>,
    /// Enqueued at.
    pub created_at: DateTime<Utc>,
    /// Completed at.
    pub processed_at: Option<DateTime<Utc>>,
    /// Due at.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Failed attempts so far.
    pub retry_count: i64,
    /// Attempts before Abandoned.
    pub max_retries: i64,
    /// Last error or skip reason.
    pub last_error: Option<String>,
    /// Ties related events.
    pub correlation_id: Option<Uuid>,
    /// Worker that holds it.
    pub locked_by: Option<String>,
    /// Claim expiry.
    pub locked_until: Option<DateTime<Utc>>,
    /// The lease under which it was claimed (fencing token).
    pub lease_token: Option<Uuid>,
}

const COLUMNS: &str = "id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, status, \
    target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, last_error, correlation_id, \
    locked_by, locked_until, lease_token";

/// Inserts a row unless one with the same idempotency key exists; returns whether it inserted.
pub async fn insert(tx: &mut Tx, r: &OutboxRow) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO integration_outbox ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
    );
    let n = on_tx!(tx, c => sqlx::query(&sql)
        .bind(r.id).bind(r.tenant_id).bind(&r.event_type).bind(&r.entity_type).bind(&r.entity_id).bind(&r.payload)
        .bind(&r.idempotency_key).bind(&r.status).bind(&r.target_system).bind(r.created_at).bind(r.processed_at)
        .bind(r.scheduled_for).bind(r.retry_count).bind(r.max_retries).bind(&r.last_error).bind(r.correlation_id)
        .bind(&r.locked_by).bind(r.locked_until).bind(r.lease_token)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// (tenant, provider) pairs with work due now: due Pending/Failed rows, or Processing rows whose
/// claim has expired.
pub async fn due_pairs(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<(Uuid, String)>> {
    // Only connected pairs whose breaker is not pausing them, oldest work first, so parked
    // tenants cannot crowd healthy ones out of a pass.
    let sql = "SELECT o.tenant_id, o.target_system FROM integration_outbox o \
        JOIN integration_connections c ON c.tenant_id = o.tenant_id AND c.provider = o.target_system \
          AND c.status = 'Connected' \
        LEFT JOIN integration_provider_health h ON h.tenant_id = o.tenant_id AND h.provider = o.target_system \
        WHERE ((o.status IN ('Pending', 'Failed') AND o.scheduled_for <= $1) \
            OR (o.status = 'Processing' AND o.locked_until < $1)) \
          AND NOT (COALESCE(h.state, 'Closed') = 'Open' AND h.open_until > $1) \
        GROUP BY o.tenant_id, o.target_system ORDER BY MIN(COALESCE(o.scheduled_for, o.locked_until)) LIMIT $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (Uuid, String)>(sql).bind(now).bind(limit).fetch_all(p).await)?,
    )
}

/// A claim request.
pub struct Claim<'a> {
    /// Tenant.
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: &'a str,
    /// The lease's fencing token.
    pub lease_token: Uuid,
    /// Worker id.
    pub owner: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// Claim expiry.
    pub until: DateTime<Utc>,
    /// Batch size.
    pub limit: i64,
}

/// Claims up to `limit` due rows of one (tenant, provider), oldest first. Rows left in
/// Processing under another lease token belong to a lost owner and are taken over.
pub async fn claim(db: &Db, c: &Claim<'_>) -> StoreResult<Vec<OutboxRow>> {
    let lock = if db.backend() == Backend::Postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE integration_outbox SET status = 'Processing', locked_by = $4, locked_until = $5, lease_token = $3 \
         WHERE id IN (SELECT o.id FROM integration_outbox o WHERE o.tenant_id = $1 AND o.target_system = $2 AND \
         ((status IN ('Pending', 'Failed') AND scheduled_for <= $6) OR \
          (status = 'Processing' AND locked_until < $6)) \
         AND NOT EXISTS (SELECT 1 FROM integration_outbox e WHERE e.tenant_id = o.tenant_id \
           AND e.entity_type = o.entity_type AND e.entity_id = o.entity_id AND e.target_system = o.target_system \
           AND e.status <> 'Completed' AND (e.created_at < o.created_at OR (e.created_at = o.created_at AND e.id < o.id))) \
         ORDER BY created_at, id LIMIT $7 {lock}) RETURNING {COLUMNS}"
    );
    let mut rows = on_conn!(db.write(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(c.tenant_id).bind(c.provider).bind(c.lease_token).bind(c.owner).bind(c.until).bind(c.now).bind(c.limit)
        .fetch_all(p).await)?;
    rows.sort_by_key(|r| (r.created_at, r.id));
    Ok(rows)
}

/// The outcome of one attempt, written with fencing.
#[derive(Clone, Debug)]
pub struct Settle {
    /// Row.
    pub id: Uuid,
    /// New status.
    pub status: &'static str,
    /// Completed at (Completed only).
    pub processed_at: Option<DateTime<Utc>>,
    /// Retries used.
    pub retry_count: i64,
    /// Next attempt (Failed with automatic retry, or Pending when released).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Error or note.
    pub last_error: Option<String>,
}

/// Writes an attempt's outcome if the row is still claimed under `lease_token`; returns whether
/// it was (false: a newer owner took the row over, and this outcome is discarded).
pub async fn settle(tx: &mut Tx, lease_token: Uuid, s: &Settle) -> StoreResult<bool> {
    let sql = "UPDATE integration_outbox SET status = $3, processed_at = $4, retry_count = $5, scheduled_for = $6, \
        last_error = $7, locked_by = NULL, locked_until = NULL \
        WHERE id = $1 AND lease_token = $2 AND status = 'Processing'";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(s.id).bind(lease_token).bind(s.status).bind(s.processed_at).bind(s.retry_count)
        .bind(s.scheduled_for).bind(&s.last_error)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// One row of the tenant.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<OutboxRow>> {
    let sql = format!("SELECT {COLUMNS} FROM integration_outbox WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, OutboxRow>(&sql).bind(tenant_id).bind(id).fetch_optional(p).await)?,
    )
}

/// The tenant's rows for some entities, newest first (for sync badges).
pub async fn for_entity(
    db: &Db,
    tenant_id: Uuid,
    entity_type: &str,
    entity_id: &str,
) -> StoreResult<Vec<OutboxRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_outbox WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3 \
         ORDER BY created_at DESC, id DESC LIMIT 50"
    );
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(tenant_id).bind(entity_type).bind(entity_id).fetch_all(p).await)?,
    )
}

/// One page of the tenant's rows, newest first, optionally of one status; and the total.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<OutboxRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_outbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(tenant_id).bind(status).bind(limit).bind(offset).fetch_all(p).await)?;
    let count = "SELECT COUNT(*) FROM integration_outbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2)";
    let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar(count).bind(tenant_id).bind(status).fetch_one(p).await)?;
    Ok((rows, total))
}

/// Re-queues one Failed or Abandoned row of the tenant with a fresh set of retries; returns
/// whether a row was re-queued.
pub async fn requeue(db: &Db, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
    let sql =
        "UPDATE integration_outbox SET status = 'Pending', retry_count = 0, scheduled_for = $3 \
        WHERE tenant_id = $1 AND id = $2 AND status IN ('Failed', 'Abandoned')";
    let n = on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(id).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Re-queues every Failed or Abandoned row of one provider; returns how many.
pub async fn requeue_failed(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let sql =
        "UPDATE integration_outbox SET status = 'Pending', retry_count = 0, scheduled_for = $3 \
        WHERE tenant_id = $1 AND target_system = $2 AND status IN ('Failed', 'Abandoned')";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(provider).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Deletes up to `limit` Completed rows processed before `before`; returns how many.
pub async fn prune_completed(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let sql = "DELETE FROM integration_outbox WHERE id IN (SELECT id FROM integration_outbox \
        WHERE status = 'Completed' AND processed_at < $1 LIMIT $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(limit).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Counts rows per status across all tenants (for metrics).
pub async fn count_by_status(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM integration_outbox GROUP BY status";
    Ok(on_conn!(db.read(), p => sqlx::query_as::<_, (String, i64)>(sql).fetch_all(p).await)?)
}

/// Counts one tenant's rows per (target, status).
pub async fn count_for_tenant(
    db: &Db,
    tenant_id: Uuid,
) -> StoreResult<Vec<(Option<String>, String, i64)>> {
    let sql =
        "SELECT target_system, status, COUNT(*) FROM integration_outbox WHERE tenant_id = $1 \
        GROUP BY target_system, status";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (Option<String>, String, i64)>(sql).bind(tenant_id).fetch_all(p).await)?,
    )
}

/// Counts (tenant, provider) breakers open right now, per provider (for metrics).
pub async fn open_breakers(db: &Db, now: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>> {
    let sql = "SELECT provider, COUNT(*) FROM integration_provider_health WHERE state = 'Open' AND open_until > $1 \
        GROUP BY provider";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, i64)>(sql).bind(now).fetch_all(p).await)?,
    )
}

/// Settles many rows as Completed in one statement, fenced by `lease_token` like [`settle`];
/// returns the ids it settled (the others were taken over by a newer lease).
///
/// Dialect difference, isolated here: PostgreSQL binds the ids as a `uuid[]`; SQLite has no
/// arrays, so they travel as a JSON array of hex strings unpacked with `json_each` + `unhex`.
pub async fn settle_completed(
    tx: &mut Tx,
    lease_token: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SET: &str = "UPDATE integration_outbox SET status = 'Completed', processed_at = $3, last_error = NULL, \
        locked_by = NULL, locked_until = NULL, scheduled_for = NULL";
    let settled = match tx {
        Tx::Postgres(t) => {
            let sql = format!("{SET} WHERE id = ANY($1) AND lease_token = $2 AND status = 'Processing' RETURNING id");
            sqlx::query_scalar::<_, Uuid>(&sql)
                .bind(ids)
                .bind(lease_token)
                .bind(now)
                .fetch_all(&mut **t)
                .await?
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "{SET} WHERE id IN (SELECT unhex(value) FROM json_each($1)) AND lease_token = $2 \
                 AND status = 'Processing' RETURNING id"
            );
            let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
            let json = serde_json::to_string(&hex).unwrap_or_else(|_| "[]".into());
            sqlx::query_scalar::<_, Uuid>(&sql)
                .bind(json)
                .bind(lease_token)
                .bind(now)
                .fetch_all(&mut **t)
                .await?
        }
    };
    Ok(settled)
}

/// An event to record for every connected provider of a tenant.
pub struct EventRows<'a> {
    /// Tenant.
    pub tenant_id: Uuid,
    /// Event name.
    pub event_type: &'a str,
    /// Entity type.
    pub entity_type: &'a str,
    /// Entity id.
    pub entity_id: &'a str,
    /// The record's version (last part of the idempotency key).
    pub version: i64,
    /// Canonical payload (JSON text).
    pub payload: &'a str,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
    /// Provider name that must not receive the event (it came from there).
    pub origin: Option<&'a str>,
    /// Attempts before Abandoned.
    pub max_retries: i64,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Records an event in one statement: a row per connected provider — Pending, or Completed with
/// the reason when the connection's settings say not to send it — or, when no provider is
/// connected, one Completed row without a target saying so. Reading the connections inside the
/// same `INSERT … SELECT` keeps the decision and the rows in the caller's transaction.
/// Returns the target of each row written (None for the no-provider row).
pub async fn insert_for_connections(
    tx: &mut Tx,
    e: &EventRows<'_>,
) -> StoreResult<Vec<Option<String>>> {
    let sql = "INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, \
           status, target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, last_error, correlation_id) \
         SELECT * FROM ( \
           SELECT CASE c.provider WHEN 'QuickBooks' THEN $8 ELSE $9 END, $1, $2, $3, $4, $5, lower(c.provider) || $6, \
             CASE WHEN c.skip IS NULL THEN 'Pending' ELSE 'Completed' END, c.provider, $7, \
             CASE WHEN c.skip IS NULL THEN NULL ELSE $7 END, $7, 0, $11, c.skip, $12 \
           FROM (SELECT provider, CASE \
               WHEN NOT auto_sync_enabled THEN 'Skipped: auto-sync is off' \
               WHEN $3 = 'Customer' AND NOT sync_customers THEN 'Skipped: customer sync is off' \
               WHEN $3 = 'Order' AND NOT sync_invoices THEN 'Skipped: invoice/order sync is off' \
               WHEN $3 = 'Payment' AND NOT sync_payments THEN 'Skipped: payment sync is off' END AS skip \
             FROM integration_connections WHERE tenant_id = $1 AND status <> 'NotConnected' \
               AND ($13 = '' OR provider <> $13)) c \
           UNION ALL \
           SELECT $10, $1, $2, $3, $4, $5, NULL, 'Completed', NULL, $7, $7, $7, 0, $11, 'Skipped: no ERP is connected', $12 \
           WHERE NOT EXISTS (SELECT 1 FROM integration_connections WHERE tenant_id = $1 AND status <> 'NotConnected') \
         ) AS rows WHERE true \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
         RETURNING target_system";
    let key_suffix = format!(
        ":{}:{}:{}:{}",
        e.event_type, e.entity_type, e.entity_id, e.version
    );
    let origin = e.origin.unwrap_or("");
    let mut targets = on_tx!(tx, c => sqlx::query_scalar::<_, Option<String>>(sql)
        .bind(e.tenant_id).bind(e.event_type).bind(e.entity_type).bind(e.entity_id).bind(e.payload)
        .bind(&key_suffix).bind(e.now).bind(Uuid::now_v7()).bind(Uuid::now_v7()).bind(Uuid::now_v7())
        .bind(e.max_retries).bind(e.correlation_id).bind(origin)
        .fetch_all(c).await)?;
    targets.sort();
    Ok(targets)
}

/// Extends the claims held under `lease_token` (the worker's heartbeat), so no other process
/// takes over rows whose delivery is still running.
pub async fn extend_claims(db: &Db, lease_token: Uuid, until: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "UPDATE integration_outbox SET locked_until = $2 WHERE lease_token = $1 AND status = 'Processing'";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(lease_token).bind(until).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Records an event for one provider only (a manual sync an Admin asked for): one Pending row,
/// unless the same event for the same record version is already there. Returns whether a row
/// was written.
pub async fn insert_targeted(tx: &mut Tx, e: &EventRows<'_>, provider: &str) -> StoreResult<bool> {
    let sql = "INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, \
           status, target_system, created_at, scheduled_for, retry_count, max_retries, correlation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'Pending', $8, $9, $9, 0, $10, $11) \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING";
    let key = format!(
        "{}:{}:{}:{}:{}",
        provider.to_lowercase(),
        e.event_type,
        e.entity_type,
        e.entity_id,
        e.version
    );
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(e.tenant_id).bind(e.event_type).bind(e.entity_type).bind(e.entity_id)
        .bind(e.payload).bind(&key).bind(provider).bind(e.now).bind(e.max_retries).bind(e.correlation_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
