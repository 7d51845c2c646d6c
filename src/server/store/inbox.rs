//! The inbox: incoming ERP events, deduplicated by (tenant, provider, external event id) so a
//! re-delivered webhook is recorded once.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An inbox row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboxRow {
    /// Id.
    pub id: Uuid,
    /// Tenant (resolved from the company id).
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: String,
    /// The event's id (or a deterministic hash where the ERP sends none).
    pub external_event_id: String,
    /// Realm / account id.
    pub external_company_id: Option<String>,
    /// `Create`, `Update`, …
    pub event_type: Option<String>,
    /// The ERP's entity name.
    pub entity_type: Option<String>,
    /// The ERP's entity id.
    pub entity_id: Option<String>,
    /// The notification as JSON.
    pub payload: Option<String>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// `Pending`, `InProgress`, `Completed`, `Failed`, `Skipped`.
    pub status: String,
}

/// Records an event unless it is already there; returns whether it was new.
pub async fn insert(tx: &mut Tx, r: &InboxRow) -> StoreResult<bool> {
    let sql = "INSERT INTO integration_inbox (id, tenant_id, provider, external_event_id, external_company_id, \
        event_type, entity_type, entity_id, payload, received_at, status, next_attempt_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) \
        ON CONFLICT (tenant_id, provider, external_event_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(r.id).bind(r.tenant_id).bind(&r.provider).bind(&r.external_event_id).bind(&r.external_company_id)
        .bind(&r.event_type).bind(&r.entity_type).bind(&r.entity_id).bind(&r.payload).bind(r.received_at).bind(&r.status)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The tenant's inbox, newest first.
pub async fn list(db: &Db, tenant_id: Uuid, limit: i64) -> StoreResult<Vec<InboxRow>> {
    let sql = "SELECT id, tenant_id, provider, external_event_id, external_company_id, event_type, entity_type, \
        entity_id, payload, received_at, status FROM integration_inbox WHERE tenant_id = $1 \
        ORDER BY received_at DESC, id DESC LIMIT $2";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, InboxRow>(sql).bind(tenant_id).bind(limit).fetch_all(p).await)?,
    )
}

/// Claims due events of `provider` for processing by `owner` until `until`: Pending ones whose
/// time has come, and InProgress ones whose claim expired (a crashed processor's).
pub async fn claim(
    db: &Db,
    provider: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<InboxRow>> {
    let lock = if db.backend() == super::Backend::Postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE integration_inbox SET status = 'InProgress', locked_by = $2, locked_until = $3, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM integration_inbox WHERE provider = $1 AND \
           ((status = 'Pending' AND next_attempt_at <= $4) OR (status = 'InProgress' AND locked_until < $4)) \
           ORDER BY received_at, id LIMIT $5 {lock}) \
         RETURNING id, tenant_id, provider, external_event_id, external_company_id, event_type, entity_type, \
           entity_id, payload, received_at, status"
    );
    let mut rows = on_conn!(db.write(), p => sqlx::query_as::<_, InboxRow>(&sql)
        .bind(provider).bind(owner).bind(until).bind(now).bind(limit).fetch_all(p).await)?;
    rows.sort_by_key(|r| (r.received_at, r.id));
    Ok(rows)
}

/// How processing an event ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Applied.
    Completed,
    /// Nothing to do (an entity we do not track, an echo of our own write, …); the note says why.
    Skipped(String),
    /// Not possible now (no working connection, the ERP unavailable): try again at the time.
    Retry(DateTime<Utc>, String),
    /// Cannot be applied; an administrator must look (the error says why).
    Failed(String),
}

/// Settles a claimed event (only while `owner` still holds it).
pub async fn settle(
    db: &Db,
    id: Uuid,
    owner: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let (status, next, error, processed) = match outcome {
        Outcome::Completed => ("Completed", None, None, Some(now)),
        Outcome::Skipped(note) => ("Skipped", None, Some(note.as_str()), Some(now)),
        Outcome::Retry(at, why) => ("Pending", Some(*at), Some(why.as_str()), None),
        Outcome::Failed(why) => ("Failed", None, Some(why.as_str()), Some(now)),
    };
    let sql = "UPDATE integration_inbox SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at), \
        last_error = $5, processed_at = $6, locked_by = NULL, locked_until = NULL \
        WHERE id = $1 AND locked_by = $2 AND status = 'InProgress'";
    let n = on_conn!(db.write(), p => sqlx::query(sql)
        .bind(id).bind(owner).bind(status).bind(next).bind(error).bind(processed)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Inbox rows of a tenant by status (for tests and the admin views).
pub async fn count_by_status(db: &Db, tenant_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
    let sql = "SELECT status, count(*) FROM integration_inbox WHERE tenant_id = $1 GROUP BY status ORDER BY status";
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, (String, i64)>(sql).bind(tenant_id).fetch_all(p).await)?,
    )
}

/// Records events found by an incremental pull (deduplicated like webhooks); returns how many
/// were new.
pub async fn insert_many(db: &Db, rows: &[InboxRow]) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    let mut new = 0;
    for r in rows {
        if insert(&mut tx, r).await? {
            new += 1;
        }
    }
    tx.commit().await?;
    Ok(new)
}
