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
    /// A newer event of the same record took its place (`superseded_by` links to it).
    pub const SUPERSEDED: &str = "Superseded";
    /// An Admin freed the record without sending this event (audited).
    pub const DISMISSED: &str = "Dismissed";
}

/// The record group an event belongs to (DESIGN § 14): a customer is its own group; an order's
/// events and its payments share the order's group, so a payment never overtakes its invoice.
pub fn record_group(entity_type: &str, entity_id: &str, correlation_id: Option<Uuid>) -> String {
    match (entity_type, correlation_id) {
        ("Payment", Some(order_id)) => format!("Order:{order_id}"),
        _ => format!("{entity_type}:{entity_id}"),
    }
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
    /// Order of enqueue: within a record group rows are delivered in this order.
    pub seq: i64,
    /// `Customer:<id>` or `Order:<id>` (see [`record_group`]).
    pub record_group: String,
    /// Whether this is its group's first unfinished row (the only one a worker may claim).
    pub head: bool,
    /// The row that replaced this one (status Superseded).
    pub superseded_by: Option<Uuid>,
}

const COLUMNS: &str = "id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, status, \
    target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, last_error, correlation_id, \
    locked_by, locked_until, lease_token, seq, record_group, head, superseded_by";

/// Inserts a row unless one with the same idempotency key exists; returns whether it inserted.
/// Its sequence number, supersessions and head are the database's to set (see the migration).
pub async fn insert(tx: &mut Tx, r: &OutboxRow) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, \
         idempotency_key, status, target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, \
         last_error, correlation_id, locked_by, locked_until, lease_token, record_group, seq, head) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20, {seq}, \
           CASE WHEN $8 = 'Pending' AND $9 IS NOT NULL THEN {head} ELSE false END) \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
        seq = next_seq(tx),
        head = starts_as_head("$2", "$9", "$20"),
    );
    let group = record_group(&r.entity_type, &r.entity_id, r.correlation_id);
    let n = on_tx!(tx, c => sqlx::query(&sql)
        .bind(r.id).bind(r.tenant_id).bind(&r.event_type).bind(&r.entity_type).bind(&r.entity_id).bind(&r.payload)
        .bind(&r.idempotency_key).bind(&r.status).bind(&r.target_system).bind(r.created_at).bind(r.processed_at)
        .bind(r.scheduled_for).bind(r.retry_count).bind(r.max_retries).bind(&r.last_error).bind(r.correlation_id)
        .bind(&r.locked_by).bind(r.locked_until).bind(r.lease_token).bind(&group)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The claimable rows of one (tenant, provider) at `$now`: heads of line that are due, or whose
/// claim by a lost owner has expired. Served by `idx_outbox_heads` as a range scan.
const CLAIMABLE: &str =
    "o.head AND o.status IN ('Pending', 'Processing', 'Failed') AND o.scheduled_for <= $1 \
    AND (o.status <> 'Processing' OR o.locked_until < $1)";

/// The time an enqueue stamps on its rows (`created_at`, `scheduled_for`): PostgreSQL's own
/// clock, so that an instance whose clock runs ahead cannot push its rows into the future (the
/// bound value only types the expression); on SQLite the bound value, since one process owns
/// the file and its clock is the database's.
fn stamp(tx: &Tx, param: &str) -> String {
    match tx {
        Tx::Postgres(_) => format!("COALESCE(now(), {param})"),
        Tx::Sqlite(_) => param.to_string(),
    }
}

/// The sequence number of a row being inserted: PostgreSQL's sequence; on SQLite the rowid the
/// row is about to get (one above the largest, SQLite's rule), which only grows — one writer
/// owns the file.
fn next_seq(tx: &Tx) -> &'static str {
    match tx {
        Tx::Postgres(_) => "nextval('integration_outbox_seq')",
        Tx::Sqlite(_) => "(SELECT COALESCE(MAX(rowid), 0) + 1 FROM integration_outbox)",
    }
}

/// Whether a row being inserted for (`tenant`, `provider`) in record group `group` starts as its
/// group's head: it does when nothing of the group is unfinished. Otherwise it queues, and the
/// insert trigger decides what it supersedes and whether the head passes to it.
fn starts_as_head(tenant: &str, provider: &str, group: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM integration_outbox h WHERE h.tenant_id = {tenant} AND h.target_system = {provider} \
         AND h.record_group = {group} AND h.status IN ('Pending', 'Processing', 'Failed', 'Abandoned'))"
    )
}

/// (tenant, provider) pairs with a claimable row now, among connected pairs whose breaker is not
/// pausing them: one index probe per connection, so records that wait (failed, retrying later,
/// blocked behind their head) cost nothing here and cannot crowd other tenants out.
pub async fn due_pairs(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<(Uuid, String)>> {
    let sql = format!(
        "SELECT c.tenant_id, c.provider FROM integration_connections c \
         LEFT JOIN integration_provider_health h ON h.tenant_id = c.tenant_id AND h.provider = c.provider \
         WHERE c.status = 'Connected' \
           AND NOT (COALESCE(h.state, 'Closed') = 'Open' AND h.open_until > $1) \
           AND EXISTS (SELECT 1 FROM integration_outbox o WHERE o.tenant_id = c.tenant_id \
                       AND o.target_system = c.provider AND {CLAIMABLE}) \
         ORDER BY c.last_sync_at NULLS FIRST LIMIT $2"
    );
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (Uuid, String)>(&sql).bind(now).bind(limit).fetch_all(p).await)?,
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
    /// Now (the database's clock).
    pub now: DateTime<Utc>,
    /// Claim expiry.
    pub until: DateTime<Utc>,
    /// Batch size.
    pub limit: i64,
}

/// Claims up to `limit` claimable rows of one (tenant, provider), earliest due first: at most one
/// per record group, since only heads of line are claimable. Rows left in Processing under
/// another lease token belong to a lost owner and are taken over once their claim expired.
pub async fn claim(db: &Db, c: &Claim<'_>) -> StoreResult<Vec<OutboxRow>> {
    let lock = if db.backend() == Backend::Postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE integration_outbox SET status = 'Processing', locked_by = $5, locked_until = $6, lease_token = $4 \
         WHERE id IN (SELECT o.id FROM integration_outbox o WHERE o.tenant_id = $2 AND o.target_system = $3 \
           AND {CLAIMABLE} ORDER BY o.scheduled_for LIMIT $7 {lock}) RETURNING {COLUMNS}"
    );
    let mut rows = on_conn!(db.write(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(c.now).bind(c.tenant_id).bind(c.provider).bind(c.lease_token).bind(c.owner).bind(c.until).bind(c.limit)
        .fetch_all(p).await)?;
    // Earliest due first; rows of one record group never share a claim, so this order is free.
    rows.sort_by_key(|r| (r.scheduled_for, r.seq));
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
/// it was (false: a newer owner took the row over, and this outcome is discarded). A failure
/// whose record received a newer event meanwhile is Superseded by it instead: the newer payload
/// is what the ERP should get.
pub async fn settle(tx: &mut Tx, lease_token: Uuid, s: &Settle) -> StoreResult<bool> {
    let sql = "UPDATE integration_outbox SET status = $3, processed_at = $4, retry_count = $5, scheduled_for = $6, \
        last_error = $7, locked_by = NULL, locked_until = NULL \
        WHERE id = $1 AND lease_token = $2 AND status = 'Processing'";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(s.id).bind(lease_token).bind(s.status).bind(s.processed_at).bind(s.retry_count)
        .bind(s.scheduled_for).bind(&s.last_error)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 && (s.status == status::FAILED || s.status == status::ABANDONED) {
        supersede_by_newer(tx, s.id).await?;
    }
    Ok(n == 1)
}

/// The newest unfinished row of the same record and ERP that covers row `$1` (an event asking
/// for an invoice is covered only by another that asks for one).
const NEWER_COVERING: &str = "SELECT n.id FROM integration_outbox n, integration_outbox t \
    WHERE t.id = $1 AND n.tenant_id = t.tenant_id AND n.target_system = t.target_system \
      AND n.entity_type = t.entity_type AND n.entity_id = t.entity_id AND n.seq > t.seq \
      AND n.status IN ('Pending', 'Failed', 'Abandoned') \
      AND (t.event_type NOT IN ('OrderPaid', 'OrderSyncRequested') OR n.event_type IN ('OrderPaid', 'OrderSyncRequested')) \
    ORDER BY n.seq DESC LIMIT 1";

async fn supersede_by_newer(tx: &mut Tx, id: Uuid) -> StoreResult<()> {
    let sql = format!(
        "UPDATE integration_outbox SET status = 'Superseded', superseded_by = ({NEWER_COVERING}), scheduled_for = NULL, \
         head = false \
         WHERE id = $1 AND status IN ('Failed', 'Abandoned') AND EXISTS ({NEWER_COVERING})"
    );
    on_tx!(tx, c => sqlx::query(&sql).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
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
         ORDER BY seq DESC, id DESC LIMIT 50"
    );
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(tenant_id).bind(entity_type).bind(entity_id).fetch_all(p).await)?,
    )
}

/// One page of the tenant's rows, newest first (in enqueue order), optionally of one status; and
/// the total.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<OutboxRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_outbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
         ORDER BY seq DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, OutboxRow>(&sql)
        .bind(tenant_id).bind(status).bind(limit).bind(offset).fetch_all(p).await)?;
    let count = "SELECT COUNT(*) FROM integration_outbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2)";
    let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar(count).bind(tenant_id).bind(status).fetch_one(p).await)?;
    Ok((rows, total))
}

/// A re-send of an unfinished row: the record's current state under a new idempotency key.
pub struct Resend<'a> {
    /// The record's current version.
    pub version: i64,
    /// The record's current canonical payload (JSON text).
    pub payload: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Re-sends an unfinished (Pending, Failed or Abandoned) row of the tenant: a new Pending row
/// with the record's current payload, a fresh set of retries and a new idempotency key, in the
/// old row's place in its record group (same sequence number, so a payment queued behind the
/// order still waits for it). The old row becomes Superseded by it. Returns the new row's id,
/// or None when the row is not unfinished (or in flight).
pub async fn resend(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    r: &Resend<'_>,
) -> StoreResult<Option<Uuid>> {
    let new_id = Uuid::now_v7();
    let suffix = format!(":resend:{}", new_id.simple());
    // The key of the record version plus this re-send: new, so the ERP sees a new operation.
    let now = stamp(tx, "$7");
    let sql = format!("INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, \
           idempotency_key, status, target_system, created_at, scheduled_for, retry_count, max_retries, \
           correlation_id, seq, record_group, head) \
         SELECT $1, x.tenant_id, x.event_type, x.entity_type, x.entity_id, $4, \
           lower(x.target_system) || ':' || x.event_type || ':' || x.entity_type || ':' || x.entity_id || ':' || $5 || $6, \
           'Pending', x.target_system, {now}, {now}, 0, x.max_retries, x.correlation_id, x.seq, x.record_group, {head} \
         FROM integration_outbox x WHERE x.tenant_id = $2 AND x.id = $3 AND x.target_system IS NOT NULL \
           AND x.status IN ('Pending', 'Failed', 'Abandoned')",
        head = starts_as_head("$2", "x.target_system", "x.record_group"));
    let n = on_tx!(tx, c => sqlx::query(&sql)
        .bind(new_id).bind(tenant_id).bind(id).bind(r.payload).bind(r.version.to_string()).bind(&suffix).bind(r.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Ok(None);
    }
    // The insert trigger superseded the old row when the event covers it; a re-send always
    // replaces it, whatever its event.
    let link = "UPDATE integration_outbox SET status = 'Superseded', superseded_by = $3, scheduled_for = NULL, head = false \
        WHERE tenant_id = $1 AND id = $2 AND status IN ('Pending', 'Failed', 'Abandoned')";
    on_tx!(tx, c => sqlx::query(link).bind(tenant_id).bind(id).bind(new_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Some(new_id))
}

/// The tenant's Failed and Abandoned rows of one provider, oldest first (for a bulk re-send).
pub async fn failed_ids(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    limit: i64,
) -> StoreResult<Vec<Uuid>> {
    let sql = "SELECT id FROM integration_outbox WHERE tenant_id = $1 AND target_system = $2 \
        AND status IN ('Failed', 'Abandoned') ORDER BY seq LIMIT $3";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar::<_, Uuid>(sql).bind(tenant_id).bind(provider).bind(limit)
        .fetch_all(p).await)?,
    )
}

/// Dismisses an unfinished, not in-flight row of the tenant: it will never be sent, and its
/// record group moves on. Returns whether a row was dismissed.
pub async fn dismiss(
    tx: &mut Tx,
    tenant_id: Uuid,
    id: Uuid,
    note: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let sql = "UPDATE integration_outbox SET status = 'Dismissed', last_error = $3, processed_at = $4, head = false, \
        scheduled_for = NULL WHERE tenant_id = $1 AND id = $2 AND status IN ('Pending', 'Failed', 'Abandoned')";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(tenant_id).bind(id).bind(note).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
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
        locked_by = NULL, locked_until = NULL, scheduled_for = NULL, head = false";
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

/// Notes why a completed row sent nothing (`Skipped: …`), in the transaction that completed it.
pub async fn note_completion(tx: &mut Tx, id: Uuid, note: &str) -> StoreResult<()> {
    let sql =
        "UPDATE integration_outbox SET last_error = $2 WHERE id = $1 AND status = 'Completed'";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(note).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
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
    let now = stamp(tx, "$7");
    let sql = format!("INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, \
           status, target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, last_error, correlation_id, \
           record_group, seq, head) \
         SELECT * FROM ( \
           SELECT CASE c.provider WHEN 'QuickBooks' THEN $8 ELSE $9 END, $1, $2, $3, $4, $5, lower(c.provider) || $6, \
             CASE WHEN c.skip IS NULL THEN 'Pending' ELSE 'Completed' END, c.provider, {now}, \
             CASE WHEN c.skip IS NULL THEN NULL ELSE {now} END, {now}, 0, $11, c.skip, $12, $14, {seq}, \
             CASE WHEN c.skip IS NULL THEN {head} ELSE false END \
           FROM (SELECT provider, CASE \
               WHEN NOT auto_sync_enabled THEN 'Skipped: auto-sync is off' \
               WHEN $3 = 'Customer' AND NOT sync_customers THEN 'Skipped: customer sync is off' \
               WHEN $3 = 'Order' AND NOT sync_invoices THEN 'Skipped: invoice/order sync is off' \
               WHEN $3 = 'Payment' AND NOT sync_payments THEN 'Skipped: payment sync is off' END AS skip \
             FROM integration_connections WHERE tenant_id = $1 AND status <> 'NotConnected' \
               AND ($13 = '' OR provider <> $13)) c \
           UNION ALL \
           SELECT $10, $1, $2, $3, $4, $5, NULL, 'Completed', NULL, {now}, {now}, {now}, 0, $11, 'Skipped: no ERP is connected', $12, $14, \
             {seq}, false \
           WHERE NOT EXISTS (SELECT 1 FROM integration_connections WHERE tenant_id = $1 AND status <> 'NotConnected') \
         ) AS rows WHERE true \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
         RETURNING target_system",
        seq = next_seq(tx),
        head = starts_as_head("$1", "c.provider", "$14"),
    );
    let key_suffix = format!(
        ":{}:{}:{}:{}",
        e.event_type, e.entity_type, e.entity_id, e.version
    );
    let origin = e.origin.unwrap_or("");
    let group = record_group(e.entity_type, e.entity_id, e.correlation_id);
    let mut targets = on_tx!(tx, c => sqlx::query_scalar::<_, Option<String>>(&sql)
        .bind(e.tenant_id).bind(e.event_type).bind(e.entity_type).bind(e.entity_id).bind(e.payload)
        .bind(&key_suffix).bind(e.now).bind(Uuid::now_v7()).bind(Uuid::now_v7()).bind(Uuid::now_v7())
        .bind(e.max_retries).bind(e.correlation_id).bind(origin).bind(&group)
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

/// What [`insert_targeted`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targeted {
    /// A new row was queued.
    Queued(Uuid),
    /// The same version of the record was already waiting or in flight in this row.
    AlreadyWaiting(Uuid),
}

/// Records an event for one provider only (a manual sync an Admin asked for): one Pending row
/// keyed by the record's version, unless that very row is still waiting or in flight. Asked
/// again after that row finished or failed, it is a re-send: the same event under a new key, so
/// the ERP sees a new operation.
pub async fn insert_targeted(
    tx: &mut Tx,
    e: &EventRows<'_>,
    provider: &str,
) -> StoreResult<Targeted> {
    let key = format!(
        "{}:{}:{}:{}:{}",
        provider.to_lowercase(),
        e.event_type,
        e.entity_type,
        e.entity_id,
        e.version
    );
    // This version still waiting or in flight, under its own key or a re-send's: that row
    // delivers it (served by idx_outbox_entity).
    let waiting = "SELECT id FROM integration_outbox WHERE tenant_id = $1 AND entity_type = $2 \
        AND entity_id = $3 AND target_system = $4 AND event_type = $5 \
        AND status IN ('Pending', 'Processing') AND (idempotency_key = $6 OR idempotency_key LIKE $7) \
        ORDER BY seq LIMIT 1";
    let resends = format!("{key}:resend:%");
    let found: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(waiting).bind(e.tenant_id).bind(e.entity_type)
        .bind(e.entity_id).bind(provider).bind(e.event_type).bind(&key).bind(&resends)
        .fetch_optional(c).await)?;
    if let Some(id) = found {
        return Ok(Targeted::AlreadyWaiting(id));
    }
    let taken =
        "SELECT COUNT(*) FROM integration_outbox WHERE tenant_id = $1 AND idempotency_key = $2";
    let used: i64 = on_tx!(tx, c => sqlx::query_scalar(taken).bind(e.tenant_id).bind(&key)
        .fetch_one(c).await)?;
    let key = if used == 0 {
        key
    } else {
        format!("{key}:resend:{}", Uuid::now_v7().simple())
    };
    let now = stamp(tx, "$9");
    let sql = format!("INSERT INTO integration_outbox (id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, \
           status, target_system, created_at, scheduled_for, retry_count, max_retries, correlation_id, record_group, \
           seq, head) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'Pending', $8, {now}, {now}, 0, $10, $11, $12, {seq}, {head}) \
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
        seq = next_seq(tx),
        head = starts_as_head("$2", "$8", "$12"),
    );
    let group = record_group(e.entity_type, e.entity_id, e.correlation_id);
    let id = Uuid::now_v7();
    let n = on_tx!(tx, c => sqlx::query(&sql)
        .bind(id).bind(e.tenant_id).bind(e.event_type).bind(e.entity_type).bind(e.entity_id)
        .bind(e.payload).bind(&key).bind(provider).bind(e.now).bind(e.max_retries).bind(e.correlation_id).bind(&group)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        return Ok(Targeted::Queued(id));
    }
    // A concurrent request queued the same key first: that row delivers it.
    let winner: Uuid = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM integration_outbox WHERE tenant_id = $1 AND idempotency_key = $2")
        .bind(e.tenant_id).bind(&key).fetch_one(c).await)?;
    Ok(Targeted::AlreadyWaiting(winner))
}
