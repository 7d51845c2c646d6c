//! The inbox: incoming ERP events, deduplicated by (tenant, provider, external event id) so a
//! re-delivered webhook is recorded once.

use super::{Db, StoreResult, Tx};
use crate::on_conn;
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

/// Records several events in one statement, skipping those already there; returns the
/// (tenant, external event id) of the new ones. PostgreSQL unpacks arrays (`UNNEST`), SQLite a
/// JSON array (`json_each`).
pub async fn insert_batch(tx: &mut Tx, rows: &[InboxRow]) -> StoreResult<Vec<(Uuid, String)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    const TARGET: &str = "INSERT INTO integration_inbox (id, tenant_id, provider, external_event_id, external_company_id, \
        event_type, entity_type, entity_id, payload, received_at, status, next_attempt_at)";
    const CONFLICT: &str = "ON CONFLICT (tenant_id, provider, external_event_id) DO NOTHING \
        RETURNING tenant_id, external_event_id";
    let new = match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "{TARGET} SELECT id, tenant_id, provider, ev, company, et, entity, eid, payload, received, status, received \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                 $8::text[], $9::text[], $10::timestamptz[], $11::text[]) \
                 AS r(id, tenant_id, provider, ev, company, et, entity, eid, payload, received, status) {CONFLICT}"
            );
            let col = |f: fn(&InboxRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
            sqlx::query_as(&sql)
                .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.tenant_id).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.provider.clone()).collect::<Vec<_>>())
                .bind(
                    rows.iter()
                        .map(|r| r.external_event_id.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(col(|r| r.external_company_id.clone()))
                .bind(col(|r| r.event_type.clone()))
                .bind(col(|r| r.entity_type.clone()))
                .bind(col(|r| r.entity_id.clone()))
                .bind(col(|r| r.payload.clone()))
                .bind(rows.iter().map(|r| r.received_at).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.status.clone()).collect::<Vec<_>>())
                .fetch_all(&mut **t)
                .await?
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "{TARGET} SELECT unhex(value ->> 'id'), unhex(value ->> 'tenant_id'), value ->> 'provider', \
                 value ->> 'ev', value ->> 'company', value ->> 'et', value ->> 'entity', value ->> 'eid', \
                 value ->> 'payload', value ->> 'received', value ->> 'status', value ->> 'received' \
                 FROM json_each($1) WHERE true {CONFLICT}"
            );
            let json: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": super::sqlite_id(r.id), "tenant_id": super::sqlite_id(r.tenant_id), "provider": r.provider,
                        "ev": r.external_event_id, "company": r.external_company_id, "et": r.event_type,
                        "entity": r.entity_type, "eid": r.entity_id, "payload": r.payload,
                        "received": super::sqlite_time(r.received_at), "status": r.status,
                    })
                })
                .collect();
            sqlx::query_as(&sql)
                .bind(serde_json::Value::Array(json).to_string())
                .fetch_all(&mut **t)
                .await?
        }
    };
    Ok(new)
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
    let new = insert_batch(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(new.len())
}

/// Deletes finished (Completed or Skipped) events received before `before`, at most `limit`;
/// returns how many. Pending and Failed events are kept whatever their age.
pub async fn prune_finished(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let sql = "DELETE FROM integration_inbox WHERE id IN (SELECT id FROM integration_inbox \
        WHERE status IN ('Completed', 'Skipped') AND received_at < $1 LIMIT $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(limit)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// An inbox row as the console lists it (the payload is left out).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboxListRow {
    /// Id.
    pub id: Uuid,
    /// Provider name.
    pub provider: String,
    /// `Create`, `Update`, …
    pub event_type: Option<String>,
    /// The ERP's entity name.
    pub entity_type: Option<String>,
    /// The ERP's entity id.
    pub entity_id: Option<String>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Processed.
    pub processed_at: Option<DateTime<Utc>>,
    /// Status.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last error.
    pub last_error: Option<String>,
}

/// One page of the tenant's inbox, newest first, optionally of one status, and the count.
pub async fn search(
    db: &Db,
    tenant_id: Uuid,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<InboxListRow>, i64)> {
    let sql = "SELECT id, provider, event_type, entity_type, entity_id, received_at, processed_at, status, attempts, \
        next_attempt_at, last_error FROM integration_inbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
        ORDER BY received_at DESC, id DESC LIMIT $3 OFFSET $4";
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, InboxListRow>(sql)
        .bind(tenant_id).bind(status).bind(limit).bind(offset).fetch_all(p).await)?;
    let count = "SELECT COUNT(*) FROM integration_inbox WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2)";
    let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar(count).bind(tenant_id).bind(status).fetch_one(p).await)?;
    Ok((rows, total))
}

/// Puts failed events of the tenant back in line now (all failed ones when `id` is None);
/// returns how many.
pub async fn retry_failed(
    db: &Db,
    tenant_id: Uuid,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let sql = "UPDATE integration_inbox SET status = 'Pending', next_attempt_at = $3, locked_by = NULL, locked_until = NULL \
        WHERE tenant_id = $1 AND status = 'Failed' AND ($2 IS NULL OR id = $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(tenant_id).bind(id).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}
