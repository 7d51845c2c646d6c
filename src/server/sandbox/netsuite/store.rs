//! The NetSuite sandbox's own SQLite file: accounts, records (kept as the JSON NetSuite answers,
//! with the columns SuiteQL and the record API look up), deleted records, the credentials an
//! account has registered (M2M certificates, TBA tokens), used nonces, issued bearer tokens and
//! the login audit trail.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{SqliteConnection, SqlitePool};
use std::path::Path;

/// Result of a storage call.
pub type DbResult<T> = Result<T, sqlx::Error>;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS accounts (account TEXT PRIMARY KEY, name TEXT NOT NULL, \
        one_world INTEGER NOT NULL, next_id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (account TEXT NOT NULL, type TEXT NOT NULL, id INTEGER NOT NULL, \
        external_id TEXT, doc TEXT NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (account, type, id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_records_eid ON records (account, type, external_id) \
        WHERE external_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS idx_records_changed ON records (account, type, last_modified)",
    "CREATE TABLE IF NOT EXISTS deleted_records (account TEXT NOT NULL, type TEXT NOT NULL, id INTEGER NOT NULL, \
        external_id TEXT, deleted_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS certificates (account TEXT NOT NULL, certificate_id TEXT NOT NULL, \
        client_id TEXT NOT NULL, certificate_pem TEXT NOT NULL, PRIMARY KEY (certificate_id))",
    "CREATE TABLE IF NOT EXISTS tba_tokens (token_id TEXT PRIMARY KEY, account TEXT NOT NULL, \
        consumer_key TEXT NOT NULL, consumer_secret TEXT NOT NULL, token_secret TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nonces (account TEXT NOT NULL, nonce TEXT NOT NULL, timestamp TEXT NOT NULL, \
        PRIMARY KEY (account, nonce, timestamp))",
    "CREATE TABLE IF NOT EXISTS access_tokens (token TEXT PRIMARY KEY, account TEXT NOT NULL, \
        expires_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS demo_keys (account TEXT PRIMARY KEY, client_id TEXT NOT NULL, \
        certificate_id TEXT NOT NULL, private_key_pem TEXT NOT NULL, certificate_pem TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS login_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, \
        at TEXT NOT NULL, method TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL)",
];

/// Opens (creating if needed) the sandbox's file. One connection: each request is applied
/// atomically and in order.
pub async fn open(path: &Path) -> DbResult<SqlitePool> {
    crate::server::sandbox::open_db(path, SCHEMA).await
}

/// An account of the sandbox.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Account {
    /// `1234567_SB1`.
    pub account: String,
    /// Company name.
    pub name: String,
    /// Whether it has subsidiaries (customers and transactions then need one).
    pub one_world: bool,
}

/// Every account.
pub async fn accounts(c: &mut SqliteConnection) -> DbResult<Vec<Account>> {
    sqlx::query_as("SELECT account, name, one_world FROM accounts ORDER BY account")
        .fetch_all(c)
        .await
}

/// One account.
pub async fn account(c: &mut SqliteConnection, account: &str) -> DbResult<Option<Account>> {
    sqlx::query_as("SELECT account, name, one_world FROM accounts WHERE account = $1")
        .bind(account)
        .fetch_optional(c)
        .await
}

/// Creates an account unless it exists; true when created.
pub async fn insert_account(c: &mut SqliteConnection, a: &Account) -> DbResult<bool> {
    let n = sqlx::query(
        "INSERT INTO accounts (account, name, one_world, next_id) VALUES ($1, $2, $3, 100) \
         ON CONFLICT (account) DO NOTHING",
    )
    .bind(&a.account)
    .bind(&a.name)
    .bind(a.one_world)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The next internal id of an account (one sequence for every record type, as ids look in
/// NetSuite: unique per type, not shared knowledge a client may rely on).
pub async fn next_id(c: &mut SqliteConnection, account: &str) -> DbResult<i64> {
    sqlx::query_scalar(
        "UPDATE accounts SET next_id = next_id + 1 WHERE account = $1 RETURNING next_id - 1",
    )
    .bind(account)
    .fetch_one(c)
    .await
}

/// A stored record.
#[derive(Clone, Debug)]
pub struct Record {
    /// Internal id.
    pub id: i64,
    /// `externalId`, when set.
    pub external_id: Option<String>,
    /// Its fields as NetSuite answers them (without `links`).
    pub doc: Value,
    /// `lastModifiedDate`.
    pub last_modified: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    external_id: Option<String>,
    doc: String,
    last_modified: String,
}

impl RecordRow {
    fn into_record(self) -> DbResult<Record> {
        Ok(Record {
            id: self.id,
            external_id: self.external_id,
            doc: serde_json::from_str(&self.doc).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            last_modified: DateTime::parse_from_rfc3339(&self.last_modified)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?
                .with_timezone(&Utc),
        })
    }
}

/// How a record is named in a URL: its internal id, or `eid:` and its external id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKey {
    /// `647`.
    Id(i64),
    /// `eid:CID001`.
    External(String),
}

/// One record of `type`.
pub async fn record(
    c: &mut SqliteConnection,
    account: &str,
    kind: &str,
    key: &RecordKey,
) -> DbResult<Option<Record>> {
    let row: Option<RecordRow> = match key {
        RecordKey::Id(id) => {
            sqlx::query_as(
                "SELECT id, external_id, doc, last_modified FROM records \
                 WHERE account = $1 AND type = $2 AND id = $3",
            )
            .bind(account)
            .bind(kind)
            .bind(id)
            .fetch_optional(c)
            .await?
        }
        RecordKey::External(eid) => {
            sqlx::query_as(
                "SELECT id, external_id, doc, last_modified FROM records \
                 WHERE account = $1 AND type = $2 AND external_id = $3",
            )
            .bind(account)
            .bind(kind)
            .bind(eid)
            .fetch_optional(c)
            .await?
        }
    };
    row.map(RecordRow::into_record).transpose()
}

/// Every record of `type`, by id.
pub async fn all_records(
    c: &mut SqliteConnection,
    account: &str,
    kind: &str,
) -> DbResult<Vec<Record>> {
    let rows: Vec<RecordRow> = sqlx::query_as(
        "SELECT id, external_id, doc, last_modified FROM records \
         WHERE account = $1 AND type = $2 ORDER BY id",
    )
    .bind(account)
    .bind(kind)
    .fetch_all(c)
    .await?;
    rows.into_iter().map(RecordRow::into_record).collect()
}

/// A deleted record, as SuiteQL's `deletedrecord` shows it.
#[derive(Clone, Debug)]
pub struct Deleted {
    /// Its internal id.
    pub id: i64,
    /// Its record type (`customer`, `salesOrder`).
    pub kind: String,
    /// Its external id, if it had one.
    pub external_id: Option<String>,
    /// When.
    pub deleted_at: DateTime<Utc>,
}

/// Every deleted record of an account.
pub async fn deleted_records(c: &mut SqliteConnection, account: &str) -> DbResult<Vec<Deleted>> {
    let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, type, external_id, deleted_at FROM deleted_records WHERE account = $1 ORDER BY deleted_at",
    )
    .bind(account)
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(|(id, kind, external_id, at)| {
            Ok(Deleted {
                id,
                kind,
                external_id,
                deleted_at: DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?
                    .with_timezone(&Utc),
            })
        })
        .collect()
}

/// Writes a record (insert or replace).
pub async fn save(c: &mut SqliteConnection, account: &str, kind: &str, r: &Record) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO records (account, type, id, external_id, doc, last_modified) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account, type, id) DO UPDATE SET external_id = excluded.external_id, \
         doc = excluded.doc, last_modified = excluded.last_modified",
    )
    .bind(account)
    .bind(kind)
    .bind(r.id)
    .bind(&r.external_id)
    .bind(r.doc.to_string())
    .bind(r.last_modified.to_rfc3339())
    .execute(c)
    .await?;
    Ok(())
}

/// Deletes a record, remembering it in `deletedrecord`; false when there was none.
pub async fn delete(
    c: &mut SqliteConnection,
    account: &str,
    kind: &str,
    id: i64,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let gone: Option<Option<String>> = sqlx::query_scalar(
        "DELETE FROM records WHERE account = $1 AND type = $2 AND id = $3 RETURNING external_id",
    )
    .bind(account)
    .bind(kind)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(external_id) = gone else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO deleted_records (account, type, id, external_id, deleted_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account)
    .bind(kind)
    .bind(id)
    .bind(external_id)
    .bind(at.to_rfc3339())
    .execute(c)
    .await?;
    Ok(true)
}

/// A registered M2M certificate.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Certificate {
    /// The account it opens.
    pub account: String,
    /// Its id (the assertion's `kid`).
    pub certificate_id: String,
    /// The integration's client id (the assertion's `iss`).
    pub client_id: String,
    /// The certificate (public key) in PEM.
    pub certificate_pem: String,
}

/// Registers (or replaces) a certificate.
pub async fn put_certificate(c: &mut SqliteConnection, cert: &Certificate) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO certificates (account, certificate_id, client_id, certificate_pem) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (certificate_id) DO UPDATE SET account = excluded.account, client_id = excluded.client_id, \
         certificate_pem = excluded.certificate_pem",
    )
    .bind(&cert.account)
    .bind(&cert.certificate_id)
    .bind(&cert.client_id)
    .bind(&cert.certificate_pem)
    .execute(c)
    .await?;
    Ok(())
}

/// The certificate with this id.
pub async fn certificate(c: &mut SqliteConnection, id: &str) -> DbResult<Option<Certificate>> {
    sqlx::query_as(
        "SELECT account, certificate_id, client_id, certificate_pem FROM certificates WHERE certificate_id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await
}

/// A registered TBA token with its consumer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TbaToken {
    /// Token id.
    pub token_id: String,
    /// The account it opens.
    pub account: String,
    /// The integration's consumer key.
    pub consumer_key: String,
    /// The integration's consumer secret.
    pub consumer_secret: String,
    /// The token's secret.
    pub token_secret: String,
}

/// Registers (or replaces) a token.
pub async fn put_tba_token(c: &mut SqliteConnection, t: &TbaToken) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO tba_tokens (token_id, account, consumer_key, consumer_secret, token_secret) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO UPDATE SET account = excluded.account, \
         consumer_key = excluded.consumer_key, consumer_secret = excluded.consumer_secret, \
         token_secret = excluded.token_secret",
    )
    .bind(&t.token_id)
    .bind(&t.account)
    .bind(&t.consumer_key)
    .bind(&t.consumer_secret)
    .bind(&t.token_secret)
    .execute(c)
    .await?;
    Ok(())
}

/// The token with this id.
pub async fn tba_token(c: &mut SqliteConnection, token_id: &str) -> DbResult<Option<TbaToken>> {
    sqlx::query_as(
        "SELECT token_id, account, consumer_key, consumer_secret, token_secret FROM tba_tokens WHERE token_id = $1",
    )
    .bind(token_id)
    .fetch_optional(c)
    .await
}

/// Records a nonce and timestamp as used; false when they already were.
pub async fn use_nonce(
    c: &mut SqliteConnection,
    account: &str,
    nonce: &str,
    timestamp: &str,
) -> DbResult<bool> {
    let n = sqlx::query(
        "INSERT INTO nonces (account, nonce, timestamp) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .bind(nonce)
    .bind(timestamp)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Issues a bearer token for `account`.
pub async fn insert_access_token(
    c: &mut SqliteConnection,
    token: &str,
    account: &str,
    expires_at: DateTime<Utc>,
) -> DbResult<()> {
    sqlx::query("INSERT INTO access_tokens (token, account, expires_at) VALUES ($1, $2, $3)")
        .bind(token)
        .bind(account)
        .bind(expires_at.to_rfc3339())
        .execute(c)
        .await?;
    Ok(())
}

/// Revokes every bearer token of an account (as NetSuite does when an integration's tokens are
/// revoked or the certificate is replaced); how many there were.
pub async fn revoke_access_tokens(c: &mut SqliteConnection, account: &str) -> DbResult<u64> {
    Ok(sqlx::query("DELETE FROM access_tokens WHERE account = $1")
        .bind(account)
        .execute(c)
        .await?
        .rows_affected())
}

/// The account a bearer token opens and when it expires.
pub async fn access_token(
    c: &mut SqliteConnection,
    token: &str,
) -> DbResult<Option<(String, DateTime<Utc>)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT account, expires_at FROM access_tokens WHERE token = $1")
            .bind(token)
            .fetch_optional(c)
            .await?;
    Ok(row.and_then(|(account, at)| {
        DateTime::parse_from_rfc3339(&at)
            .ok()
            .map(|t| (account, t.with_timezone(&Utc)))
    }))
}

/// One line of the login audit trail.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct AuditLine {
    /// The account, when the request named one.
    pub account: Option<String>,
    /// When.
    pub at: String,
    /// `OAuth 2.0`, `TBA`, `Bearer`.
    pub method: String,
    /// `Success` or `Failure`.
    pub status: String,
    /// Why (the code NetSuite shows: `InvalidSignature`, `nonce_used`, …).
    pub detail: String,
}

/// Adds a line to the login audit trail.
pub async fn audit(c: &mut SqliteConnection, line: &AuditLine) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO login_audit (account, at, method, status, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&line.account)
    .bind(&line.at)
    .bind(&line.method)
    .bind(&line.status)
    .bind(&line.detail)
    .execute(c)
    .await?;
    Ok(())
}

/// The latest `limit` lines of the trail, newest first.
pub async fn audit_trail(c: &mut SqliteConnection, limit: i64) -> DbResult<Vec<AuditLine>> {
    sqlx::query_as(
        "SELECT account, at, method, status, detail FROM login_audit ORDER BY seq DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(c)
    .await
}
