//! Sync logs: one row per delivery attempt or skip, with payloads only when they help.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A sync log row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SyncLogRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Provider name.
    pub provider: String,
    /// Entity type.
    pub entity_type: String,
    /// Our id.
    pub entity_id: Option<String>,
    /// The ERP's id.
    pub external_id: Option<String>,
    /// Event type.
    pub event_type: Option<String>,
    /// The outbox row (for retry from the log).
    pub outbox_id: Option<Uuid>,
    /// `ToExternal` or `FromExternal`.
    pub direction: String,
    /// `Completed`, `Failed`, `Skipped`, …
    pub status: String,
    /// Error.
    pub error_message: Option<String>,
    /// Request body (failures and diagnostic mode only; secrets scrubbed).
    pub request_payload: Option<String>,
    /// Response body (same rule).
    pub response_payload: Option<String>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// Retries before this attempt.
    pub retry_count: i64,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
}

const COLUMNS: &str = "id, tenant_id, provider, entity_type, entity_id, external_id, event_type, outbox_id, direction, \
    status, error_message, request_payload, response_payload, started_at, completed_at, duration_ms, retry_count, correlation_id";

/// Records a log row in the caller's transaction.
pub async fn insert(tx: &mut Tx, l: &SyncLogRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO integration_sync_logs ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
    );
    on_tx!(tx, c => sqlx::query(&sql)
        .bind(l.id).bind(l.tenant_id).bind(&l.provider).bind(&l.entity_type).bind(&l.entity_id).bind(&l.external_id)
        .bind(&l.event_type).bind(l.outbox_id).bind(&l.direction).bind(&l.status).bind(&l.error_message)
        .bind(&l.request_payload).bind(&l.response_payload).bind(l.started_at).bind(l.completed_at)
        .bind(l.duration_ms).bind(l.retry_count).bind(l.correlation_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// One log row of the tenant.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<SyncLogRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM integration_sync_logs WHERE tenant_id = $1 AND id = $2");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, SyncLogRow>(&sql).bind(tenant_id).bind(id).fetch_optional(p).await)?,
    )
}

/// The tenant's log rows of one outbox row, oldest first.
pub async fn for_outbox(db: &Db, tenant_id: Uuid, outbox_id: Uuid) -> StoreResult<Vec<SyncLogRow>> {
    let sql = format!("SELECT {COLUMNS} FROM integration_sync_logs WHERE tenant_id = $1 AND outbox_id = $2 ORDER BY started_at, id");
    Ok(
        on_conn!(db.read(), p => sqlx::query_as::<_, SyncLogRow>(&sql).bind(tenant_id).bind(outbox_id).fetch_all(p).await)?,
    )
}

/// Clears stored payloads of rows older than `before` (personal data ages out); returns how many.
pub async fn scrub_payloads(
    db: &Db,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<u64> {
    let sql = "UPDATE integration_sync_logs SET request_payload = NULL, response_payload = NULL, payload_scrubbed_at = $2 \
        WHERE id IN (SELECT id FROM integration_sync_logs WHERE started_at < $1 AND payload_scrubbed_at IS NULL \
        AND (request_payload IS NOT NULL OR response_payload IS NOT NULL) LIMIT $3)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(now).bind(limit).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Deletes up to `limit` rows older than `before`; returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let sql = "DELETE FROM integration_sync_logs WHERE id IN (SELECT id FROM integration_sync_logs WHERE started_at < $1 LIMIT $2)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(limit).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Records many log rows in one statement (the worker's hot path).
///
/// Dialect difference, isolated here: PostgreSQL inserts from `UNNEST` of one array per column;
/// SQLite from `json_each` over a JSON array of rows (ids as hex, timestamps in the exact text
/// form sqlx writes, so they compare and decode like rows written one by one).
pub async fn insert_many(tx: &mut Tx, logs: &[SyncLogRow]) -> StoreResult<()> {
    if logs.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "INSERT INTO integration_sync_logs ({COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], \
                 $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::text[], \
                 $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::int8[], \
                 $17::int8[], $18::uuid[])"
            );
            let col = |f: fn(&SyncLogRow) -> Option<String>| logs.iter().map(f).collect::<Vec<_>>();
            sqlx::query(&sql)
                .bind(logs.iter().map(|l| l.id).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.tenant_id).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.provider.clone()).collect::<Vec<_>>())
                .bind(
                    logs.iter()
                        .map(|l| l.entity_type.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(col(|l| l.entity_id.clone()))
                .bind(col(|l| l.external_id.clone()))
                .bind(col(|l| l.event_type.clone()))
                .bind(logs.iter().map(|l| l.outbox_id).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.direction.clone()).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.status.clone()).collect::<Vec<_>>())
                .bind(col(|l| l.error_message.clone()))
                .bind(col(|l| l.request_payload.clone()))
                .bind(col(|l| l.response_payload.clone()))
                .bind(logs.iter().map(|l| l.started_at).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.completed_at).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.duration_ms).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.retry_count).collect::<Vec<_>>())
                .bind(logs.iter().map(|l| l.correlation_id).collect::<Vec<_>>())
                .execute(&mut **t)
                .await?;
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "INSERT INTO integration_sync_logs ({COLUMNS}) SELECT unhex(value ->> 'id'), unhex(value ->> 'tenant_id'), \
                 value ->> 'provider', value ->> 'entity_type', value ->> 'entity_id', value ->> 'external_id', \
                 value ->> 'event_type', unhex(value ->> 'outbox_id'), value ->> 'direction', value ->> 'status', \
                 value ->> 'error_message', value ->> 'request_payload', value ->> 'response_payload', \
                 value ->> 'started_at', value ->> 'completed_at', value ->> 'duration_ms', value ->> 'retry_count', \
                 unhex(value ->> 'correlation_id') FROM json_each($1)"
            );
            let rows: Vec<serde_json::Value> = logs.iter().map(sqlite_json).collect();
            let json = serde_json::Value::Array(rows).to_string();
            sqlx::query(&sql).bind(json).execute(&mut **t).await?;
        }
    }
    Ok(())
}

/// One log row as the JSON object [`insert_many`] unpacks on SQLite.
fn sqlite_json(l: &SyncLogRow) -> serde_json::Value {
    let hex = super::sqlite_id;
    let ts = super::sqlite_time;
    serde_json::json!({
        "id": hex(l.id), "tenant_id": hex(l.tenant_id), "provider": l.provider, "entity_type": l.entity_type,
        "entity_id": l.entity_id, "external_id": l.external_id, "event_type": l.event_type,
        "outbox_id": l.outbox_id.map(hex), "direction": l.direction, "status": l.status,
        "error_message": l.error_message, "request_payload": l.request_payload, "response_payload": l.response_payload,
        "started_at": ts(l.started_at), "completed_at": l.completed_at.map(ts), "duration_ms": l.duration_ms,
        "retry_count": l.retry_count, "correlation_id": l.correlation_id.map(hex),
    })
}

/// What the log viewer filters by; every part optional, all of them combined.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    /// Provider name as stored (`QuickBooks`).
    pub provider: Option<String>,
    /// Entity type.
    pub entity_type: Option<String>,
    /// `ToExternal` or `FromExternal`.
    pub direction: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    /// Our record's id or the ERP's.
    pub record: Option<String>,
}

enum Arg<'a> {
    Text(&'a str),
    Time(DateTime<Utc>),
}

/// The WHERE clause of `f` for `tenant_id` ($1), and its arguments ($2, $3, …).
///
/// A record search names the rows by id through the two record indexes (our id, the ERP's)
/// and leaves `tenant_id` to them: given `tenant_id = $1` beside an `OR`, SQLite's planner walks
/// the tenant's whole time index instead (measured: benches/console.rs).
fn conditions(f: &LogFilter) -> (String, Vec<Arg<'_>>) {
    let mut args = Vec::new();
    let mut sql = match &f.record {
        Some(record) => {
            args.push(Arg::Text(record));
            "id IN (SELECT id FROM integration_sync_logs WHERE tenant_id = $1 AND entity_id = $2 \
             UNION ALL SELECT id FROM integration_sync_logs WHERE tenant_id = $1 AND external_id = $2)"
                .to_string()
        }
        None => String::from("tenant_id = $1"),
    };
    let texts = [
        ("provider = ", &f.provider),
        ("entity_type = ", &f.entity_type),
        ("direction = ", &f.direction),
        ("status = ", &f.status),
    ];
    for (condition, value) in texts {
        if let Some(v) = value {
            args.push(Arg::Text(v));
            sql.push_str(&format!(" AND {condition}${}", args.len() + 1));
        }
    }
    for (condition, value) in [("started_at >= ", f.from), ("started_at < ", f.to)] {
        if let Some(t) = value {
            args.push(Arg::Time(t));
            sql.push_str(&format!(" AND {condition}${}", args.len() + 1));
        }
    }
    (sql, args)
}

/// Where a page of the log starts, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Skip this many rows (page-number paging).
    Offset(i64),
    /// The rows just older than this (started_at, id): the next page.
    Older(DateTime<Utc>, Uuid),
    /// The rows just newer than this (started_at, id): the previous page.
    Newer(DateTime<Utc>, Uuid),
}

/// Binds the tenant and the filter's arguments, in order, to a query of either backend.
macro_rules! bind_filter {
    ($query:expr, $tenant_id:expr, $args:expr) => {{
        let mut q = $query.bind($tenant_id);
        for a in $args {
            q = match a {
                Arg::Text(t) => q.bind(*t),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// The page query of `f` from `at` and its arguments after the tenant; then come the keyset
/// (time, id) when `at` has one, then the limit, then the offset when `at` is one.
///
/// The page's ids are found first, in a range of one index that ends in (started_at, id)
/// (migration `log_paging`; row-value comparisons for the keyset, which both backends read as an
/// index range) and from that index alone; then only those rows are read. Asked for whole rows
/// at once, SQLite's planner prefers the time index over a filter's once a cursor bounds the
/// time too, and an offset would read every skipped row.
fn page_sql(f: &LogFilter, at: Position) -> (String, Vec<Arg<'_>>) {
    let (filter, args) = conditions(f);
    let n = args.len();
    let (key, order, tail) = match at {
        Position::Offset(_) => (
            String::new(),
            "DESC",
            format!("LIMIT ${} OFFSET ${}", n + 2, n + 3),
        ),
        Position::Older(..) => (
            format!(" AND (started_at, id) < (${}, ${})", n + 2, n + 3),
            "DESC",
            format!("LIMIT ${}", n + 4),
        ),
        Position::Newer(..) => (
            format!(" AND (started_at, id) > (${}, ${})", n + 2, n + 3),
            "ASC",
            format!("LIMIT ${}", n + 4),
        ),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM integration_sync_logs WHERE id IN (\
         SELECT id FROM integration_sync_logs WHERE {filter}{key} \
         ORDER BY started_at {order}, id {order} {tail}) \
         ORDER BY started_at {order}, id {order}"
    );
    (sql, args)
}

/// The count query of `f` (its last argument is the cap + 1) and its arguments after the tenant.
fn count_sql(f: &LogFilter) -> (String, Vec<Arg<'_>>) {
    let (filter, args) = conditions(f);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM integration_sync_logs WHERE {filter} LIMIT ${}) AS matching",
        args.len() + 2
    );
    (sql, args)
}

/// Up to `limit` of the tenant's log rows matching `f` from `at`, newest first.
pub async fn search(
    db: &Db,
    tenant_id: Uuid,
    f: &LogFilter,
    limit: i64,
    at: Position,
) -> StoreResult<Vec<SyncLogRow>> {
    let (sql, args) = page_sql(f, at);
    let mut rows = match at {
        Position::Offset(offset) => {
            on_conn!(db.read(), p => bind_filter!(sqlx::query_as::<_, SyncLogRow>(&sql), tenant_id, &args)
            .bind(limit).bind(offset).fetch_all(p).await)?
        }
        Position::Older(t, id) | Position::Newer(t, id) => {
            on_conn!(db.read(), p => bind_filter!(sqlx::query_as::<_, SyncLogRow>(&sql), tenant_id, &args)
            .bind(t).bind(id).bind(limit).fetch_all(p).await)?
        }
    };
    if matches!(at, Position::Newer(..)) {
        rows.reverse();
    }
    Ok(rows)
}

/// How many of the tenant's log rows match `f`, counting no further than `cap` + 1: the count
/// reads at most that many index entries, however many rows the tenant has.
pub async fn count_up_to(db: &Db, tenant_id: Uuid, f: &LogFilter, cap: i64) -> StoreResult<i64> {
    let (sql, args) = count_sql(f);
    Ok(
        on_conn!(db.read(), p => bind_filter!(sqlx::query_scalar::<_, i64>(&sql), tenant_id, &args)
        .bind(cap.saturating_add(1)).fetch_one(p).await)?,
    )
}

/// The database's plans for the page (`at`, `limit`) and the count of `f`, one line per step:
/// what the benchmark reports and a test reads to prove the viewer never scans the table.
pub async fn plans(
    db: &Db,
    tenant_id: Uuid,
    f: &LogFilter,
    limit: i64,
    at: Position,
) -> StoreResult<(Vec<String>, Vec<String>)> {
    let explain = match db.backend() {
        super::Backend::Postgres => "EXPLAIN ",
        super::Backend::Sqlite => "EXPLAIN QUERY PLAN ",
    };
    // The plan text is the last column of either backend's answer.
    macro_rules! lines {
        ($query:expr, $p:expr) => {{
            use sqlx::Row;
            $query.fetch_all($p).await.and_then(|rows| {
                rows.iter()
                    .map(|r| r.try_get::<String, _>(r.len() - 1))
                    .collect::<Result<Vec<String>, _>>()
            })
        }};
    }
    let (page, args) = page_sql(f, at);
    let page = format!("{explain}{page}");
    let page_plan = match at {
        Position::Offset(offset) => {
            on_conn!(db.read(), p => lines!(bind_filter!(sqlx::query(&page), tenant_id, &args)
            .bind(limit).bind(offset), p))?
        }
        Position::Older(t, id) | Position::Newer(t, id) => {
            on_conn!(db.read(), p => lines!(bind_filter!(sqlx::query(&page), tenant_id, &args)
            .bind(t).bind(id).bind(limit), p))?
        }
    };
    let (count, args) = count_sql(f);
    let count = format!("{explain}{count}");
    let count_plan = on_conn!(db.read(), p => lines!(bind_filter!(sqlx::query(&count), tenant_id, &args)
        .bind(crate::domain::sync::LOG_TOTAL_CAP + 1), p))?;
    Ok((page_plan, count_plan))
}
