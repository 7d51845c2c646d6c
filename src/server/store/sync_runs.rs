//! Sync runs: a manual sync or backfill, and the outbox rows that deliver it. A run's progress is
//! read from those rows' statuses, so it means delivered, not queued.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A run as recorded when it was started.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SyncRunRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: String,
    /// `Customer`, `Order` or `All`.
    pub scope: String,
    /// Only records changed since then, if set.
    pub since: Option<DateTime<Utc>>,
    /// Who started it (user id or token id).
    pub requested_by: String,
    /// Records considered.
    pub considered: i64,
    /// Records that could not be queued (missing, not sendable).
    pub not_queued: i64,
    /// One line per record not queued (JSON array of strings).
    pub errors: String,
    /// Started.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, tenant_id, provider, scope, since, requested_by, considered, not_queued, errors, created_at";

/// Records a new run (its figures are filled in by [`finish_queueing`]).
pub async fn create(tx: &mut Tx, r: &SyncRunRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO integration_sync_runs ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    );
    on_tx!(tx, c => sqlx::query(&sql)
        .bind(r.id).bind(r.tenant_id).bind(&r.provider).bind(&r.scope).bind(r.since).bind(&r.requested_by)
        .bind(r.considered).bind(r.not_queued).bind(&r.errors).bind(r.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Makes an outbox row part of a run (in the transaction that queued or found it).
pub async fn add_item(tx: &mut Tx, run_id: Uuid, outbox_id: Uuid) -> StoreResult<()> {
    let sql = "INSERT INTO integration_sync_run_items (run_id, outbox_id) VALUES ($1, $2) \
        ON CONFLICT (run_id, outbox_id) DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql).bind(run_id).bind(outbox_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records what queueing found: records considered, and those that could not be queued.
pub async fn finish_queueing(
    db: &Db,
    run_id: Uuid,
    considered: i64,
    not_queued: i64,
    errors: &str,
) -> StoreResult<()> {
    let sql = "UPDATE integration_sync_runs SET considered = $2, not_queued = $3, errors = $4 WHERE id = $1";
    on_conn!(db.write(), p => sqlx::query(sql).bind(run_id).bind(considered).bind(not_queued).bind(errors)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// One of a tenant's runs.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<SyncRunRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM integration_sync_runs WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, SyncRunRow>(&sql)
        .bind(tenant_id).bind(id).fetch_optional(p).await)?,
    )
}

/// A page of a tenant's runs, newest first, and how many there are.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<SyncRunRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_sync_runs WHERE tenant_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, SyncRunRow>(&sql)
        .bind(tenant_id).bind(limit).bind(offset).fetch_all(p).await)?;
    let count = "SELECT COUNT(*) FROM integration_sync_runs WHERE tenant_id = $1";
    let total: i64 =
        on_conn!(db.read(), p => sqlx::query_scalar(count).bind(tenant_id).fetch_one(p).await)?;
    Ok((rows, total))
}

/// Where a run's rows stand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Rows in the run.
    pub queued: i64,
    /// Delivered (Completed).
    pub delivered: i64,
    /// Failed for good or until a person retries (Abandoned, Failed without a next attempt).
    pub failed: i64,
    /// Still to be delivered (Pending, Processing, Failed with a next attempt).
    pub pending: i64,
    /// Taken over by a newer event or dismissed by an Admin.
    pub set_aside: i64,
    /// When the last row finished.
    pub last_processed_at: Option<DateTime<Utc>>,
}

/// Counts a run's rows by where they stand.
pub async fn counts(db: &Db, run_id: Uuid) -> StoreResult<RunCounts> {
    let sql =
        "SELECT o.status, o.scheduled_for IS NOT NULL AS planned, COUNT(*), MAX(o.processed_at) \
        FROM integration_sync_run_items i JOIN integration_outbox o ON o.id = i.outbox_id \
        WHERE i.run_id = $1 GROUP BY o.status, o.scheduled_for IS NOT NULL";
    type Row = (String, bool, i64, Option<DateTime<Utc>>);
    let rows =
        on_conn!(db.read(), p => sqlx::query_as::<_, Row>(sql).bind(run_id).fetch_all(p).await)?;
    let mut c = RunCounts::default();
    for (status, planned, n, last) in rows {
        c.queued += n;
        match (status.as_str(), planned) {
            ("Completed", _) => c.delivered += n,
            ("Abandoned", _) | ("Failed", false) => c.failed += n,
            ("Superseded" | "Dismissed", _) => c.set_aside += n,
            _ => c.pending += n,
        }
        c.last_processed_at = c.last_processed_at.max(last);
    }
    Ok(c)
}
