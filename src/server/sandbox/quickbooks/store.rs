//! The emulator's own SQLite file (DESIGN § 13): companies, entity documents, OAuth grants,
//! the `requestid` replay cache and the webhook queue. Entities are kept as Intuit's JSON
//! documents, with a few indexed columns for the lookups the API makes often.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{SqliteConnection, SqlitePool};
use std::path::Path;

/// Result of a storage call.
pub type DbResult<T> = Result<T, sqlx::Error>;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS companies (realm TEXT PRIMARY KEY, name TEXT NOT NULL, next_id INTEGER NOT NULL, \
        next_doc_number INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entities (realm TEXT NOT NULL, entity TEXT NOT NULL, id INTEGER NOT NULL, \
        doc TEXT NOT NULL, name_key TEXT, doc_number TEXT, deleted INTEGER NOT NULL DEFAULT 0, \
        updated_at TEXT NOT NULL, PRIMARY KEY (realm, entity, id))",
    "CREATE INDEX IF NOT EXISTS idx_entities_name ON entities (realm, name_key)",
    "CREATE INDEX IF NOT EXISTS idx_entities_doc ON entities (realm, entity, doc_number)",
    "CREATE INDEX IF NOT EXISTS idx_entities_changed ON entities (realm, updated_at)",
    "CREATE TABLE IF NOT EXISTS auth_codes (code TEXT PRIMARY KEY, realm TEXT NOT NULL, client_id TEXT NOT NULL, \
        redirect_uri TEXT NOT NULL, expires_at TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS refresh_tokens (token TEXT PRIMARY KEY, realm TEXT NOT NULL, client_id TEXT NOT NULL, \
        issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, superseded_at TEXT, revoked INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS access_tokens (token TEXT PRIMARY KEY, realm TEXT NOT NULL, refresh_token TEXT, \
        expires_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS request_ids (realm TEXT NOT NULL, request_id TEXT NOT NULL, status INTEGER NOT NULL, \
        body TEXT NOT NULL, PRIMARY KEY (realm, request_id))",
    "CREATE TABLE IF NOT EXISTS webhook_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, \
        realm TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL, operation TEXT NOT NULL, \
        occurred_at TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, \
        next_attempt_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
];

/// Opens (creating if needed) the emulator's database file. One connection: every request
/// is applied atomically and in order, as a single company's books would be.
pub async fn open(path: &Path) -> DbResult<SqlitePool> {
    crate::server::sandbox::open_db(path, SCHEMA).await
}

/// A company of the emulator.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Company {
    /// Realm id.
    pub realm: String,
    /// Company name.
    pub name: String,
}

/// Every company.
pub async fn companies(c: &mut SqliteConnection) -> DbResult<Vec<Company>> {
    sqlx::query_as("SELECT realm, name FROM companies ORDER BY realm")
        .fetch_all(c)
        .await
}

/// One company.
pub async fn company(c: &mut SqliteConnection, realm: &str) -> DbResult<Option<Company>> {
    sqlx::query_as("SELECT realm, name FROM companies WHERE realm = $1")
        .bind(realm)
        .fetch_optional(c)
        .await
}

/// Creates a company unless it exists; true when created.
pub async fn insert_company(c: &mut SqliteConnection, realm: &str, name: &str) -> DbResult<bool> {
    let n = sqlx::query(
        "INSERT INTO companies (realm, name, next_id, next_doc_number) VALUES ($1, $2, 1, 1001) \
         ON CONFLICT (realm) DO NOTHING",
    )
    .bind(realm)
    .bind(name)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The next entity id of a company.
pub async fn next_id(c: &mut SqliteConnection, realm: &str) -> DbResult<i64> {
    sqlx::query_scalar(
        "UPDATE companies SET next_id = next_id + 1 WHERE realm = $1 RETURNING next_id - 1",
    )
    .bind(realm)
    .fetch_one(c)
    .await
}

/// The next automatic invoice DocNumber of a company.
pub async fn next_doc_number(c: &mut SqliteConnection, realm: &str) -> DbResult<i64> {
    sqlx::query_scalar(
        "UPDATE companies SET next_doc_number = next_doc_number + 1 WHERE realm = $1 RETURNING next_doc_number - 1",
    )
    .bind(realm)
    .fetch_one(c)
    .await
}

/// The uniqueness key of a name: QuickBooks compares names without regard to case or
/// surrounding blanks. **[UNCONFIRMED]** — the conservative reading (more clashes, never fewer).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn indexed(entity: &str, doc: &Value) -> (Option<String>, Option<String>) {
    let name = match entity {
        "Customer" => doc.get("DisplayName"),
        "Item" | "Account" | "Term" => doc.get("Name"),
        _ => None,
    }
    .and_then(Value::as_str)
    .map(name_key);
    let doc_number = doc
        .get("DocNumber")
        .and_then(Value::as_str)
        .map(str::to_string);
    (name, doc_number)
}

/// Inserts or replaces an entity document.
pub async fn put(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    id: i64,
    doc: &Value,
    deleted: bool,
    now: DateTime<Utc>,
) -> DbResult<()> {
    let (name, doc_number) = indexed(entity, doc);
    sqlx::query(
        "INSERT INTO entities (realm, entity, id, doc, name_key, doc_number, deleted, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (realm, entity, id) DO UPDATE SET doc = excluded.doc, \
         name_key = excluded.name_key, doc_number = excluded.doc_number, deleted = excluded.deleted, \
         updated_at = excluded.updated_at",
    )
    .bind(realm)
    .bind(entity)
    .bind(id)
    .bind(doc.to_string())
    .bind(name)
    .bind(doc_number)
    .bind(deleted)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

fn parse_docs(rows: Vec<String>) -> Vec<Value> {
    rows.iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect()
}

/// One live (not deleted) entity.
pub async fn get(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    id: i64,
) -> DbResult<Option<Value>> {
    let doc: Option<String> = sqlx::query_scalar(
        "SELECT doc FROM entities WHERE realm = $1 AND entity = $2 AND id = $3 AND deleted = 0",
    )
    .bind(realm)
    .bind(entity)
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(doc.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Every live entity of a kind, by id.
pub async fn all(c: &mut SqliteConnection, realm: &str, entity: &str) -> DbResult<Vec<Value>> {
    let rows = sqlx::query_scalar(
        "SELECT doc FROM entities WHERE realm = $1 AND entity = $2 AND deleted = 0 ORDER BY id",
    )
    .bind(realm)
    .bind(entity)
    .fetch_all(c)
    .await?;
    Ok(parse_docs(rows))
}

/// Live entities of a kind with this name (any of Customer/Vendor/Employee share one
/// namespace; the emulator only has customers, so the kind is the namespace).
pub async fn by_name(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    name: &str,
) -> DbResult<Vec<Value>> {
    let rows = sqlx::query_scalar(
        "SELECT doc FROM entities WHERE realm = $1 AND entity = $2 AND name_key = $3 AND deleted = 0 ORDER BY id",
    )
    .bind(realm)
    .bind(entity)
    .bind(name_key(name))
    .fetch_all(c)
    .await?;
    Ok(parse_docs(rows))
}

/// An indexed column a query's `=` or `IN` can be served from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// The entity's id.
    Id,
    /// DisplayName (customers) or Name (name-list entities), case-insensitive.
    Name,
    /// DocNumber (transactions).
    DocNumber,
}

/// Live entities of a kind whose `key` is one of `values`, by id: a query's look-up by ids,
/// names or numbers without reading every entity of the kind.
pub async fn by_keys(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    key: Key,
    values: &[String],
) -> DbResult<Vec<Value>> {
    let (column, values): (&str, Vec<serde_json::Value>) = match key {
        // Ids are integers here; a value that is not one matches nothing.
        Key::Id => (
            "id",
            values
                .iter()
                .filter_map(|v| v.trim().parse::<i64>().ok())
                .map(Into::into)
                .collect(),
        ),
        Key::Name => (
            "name_key",
            values.iter().map(|v| name_key(v).into()).collect(),
        ),
        Key::DocNumber => (
            "doc_number",
            values.iter().map(|v| v.clone().into()).collect(),
        ),
    };
    let sql = format!(
        "SELECT doc FROM entities WHERE realm = $1 AND entity = $2 AND deleted = 0 \
         AND {column} IN (SELECT value FROM json_each($3)) ORDER BY id"
    );
    let rows = sqlx::query_scalar(&sql)
        .bind(realm)
        .bind(entity)
        .bind(serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()))
        .fetch_all(c)
        .await?;
    Ok(parse_docs(rows))
}

/// Entities of a kind changed since `since`, deleted ones included, oldest change first.
pub async fn changed_since(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    since: DateTime<Utc>,
    limit: i64,
) -> DbResult<Vec<(Value, bool)>> {
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT doc, deleted FROM entities WHERE realm = $1 AND entity = $2 AND updated_at > $3 \
         ORDER BY updated_at, id LIMIT $4",
    )
    .bind(realm)
    .bind(entity)
    .bind(since)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, d)| serde_json::from_str(&s).ok().map(|v| (v, d)))
        .collect())
}

/// A stored answer for a `requestid`.
pub async fn replay(
    c: &mut SqliteConnection,
    realm: &str,
    request_id: &str,
) -> DbResult<Option<(u16, String)>> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT status, body FROM request_ids WHERE realm = $1 AND request_id = $2")
            .bind(realm)
            .bind(request_id)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(s, b)| (u16::try_from(s).unwrap_or(200), b)))
}

/// Remembers the answer given for a `requestid`.
pub async fn remember(
    c: &mut SqliteConnection,
    realm: &str,
    request_id: &str,
    status: u16,
    body: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO request_ids (realm, request_id, status, body) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (realm, request_id) DO NOTHING",
    )
    .bind(realm)
    .bind(request_id)
    .bind(i64::from(status))
    .bind(body)
    .execute(c)
    .await?;
    Ok(())
}

/// Adds `by` to a named counter (refreshes performed, …).
pub async fn bump(c: &mut SqliteConnection, name: &str, by: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = value + $2",
    )
    .bind(name)
    .bind(by)
    .execute(c)
    .await?;
    Ok(())
}

/// Every counter.
pub async fn counters(c: &mut SqliteConnection) -> DbResult<Vec<(String, i64)>> {
    sqlx::query_as("SELECT name, value FROM counters ORDER BY name")
        .fetch_all(c)
        .await
}

/// Queues a webhook notification (in the transaction of the change it reports) — only while an
/// app holds a live grant for the company: Intuit notifies connected companies only, and only of
/// changes made after the connection (reference § 9).
pub async fn queue_webhook(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    entity_id: &str,
    operation: &str,
    now: DateTime<Utc>,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO webhook_events (id, realm, entity, entity_id, operation, occurred_at, next_attempt_at) \
         SELECT $1, $2, $3, $4, $5, $6, $6 \
         WHERE EXISTS (SELECT 1 FROM refresh_tokens WHERE realm = $2 AND revoked = 0)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(realm)
    .bind(entity)
    .bind(entity_id)
    .bind(operation)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// A queued webhook notification.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WebhookEvent {
    /// Queue order.
    pub seq: i64,
    /// Event id (the CloudEvents `id`; the same on every re-send).
    pub id: String,
    /// Realm.
    pub realm: String,
    /// Entity name.
    pub entity: String,
    /// Entity id.
    pub entity_id: String,
    /// Create, Update, Delete, …
    pub operation: String,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Failed deliveries so far.
    pub attempts: i64,
    /// Not before.
    pub next_attempt_at: DateTime<Utc>,
}

/// The head of the queue: undelivered events in order (Intuit's queue blocks on failure).
pub async fn webhook_head(c: &mut SqliteConnection, limit: i64) -> DbResult<Vec<WebhookEvent>> {
    sqlx::query_as(
        "SELECT seq, id, realm, entity, entity_id, operation, occurred_at, attempts, next_attempt_at \
         FROM webhook_events WHERE delivered = 0 ORDER BY seq LIMIT $1",
    )
    .bind(limit)
    .fetch_all(c)
    .await
}

/// Marks events up to `last_seq` delivered.
pub async fn webhooks_delivered(c: &mut SqliteConnection, seqs: &[i64]) -> DbResult<()> {
    for seq in seqs {
        sqlx::query("UPDATE webhook_events SET delivered = 1 WHERE seq = $1")
            .bind(seq)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Schedules the next attempt of events after a failed delivery.
pub async fn webhooks_failed(
    c: &mut SqliteConnection,
    seqs: &[i64],
    next: DateTime<Utc>,
) -> DbResult<()> {
    for seq in seqs {
        sqlx::query("UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = $2 WHERE seq = $1")
            .bind(seq)
            .bind(next)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}
