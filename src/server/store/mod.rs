//! Storage: one set of queries for SQLite and PostgreSQL (DESIGN § 3).
//!
//! [`Db`] holds the pools; [`Db::read`] / [`Db::write`] hand out a [`Conn`], and [`Db::begin`] a
//! [`Tx`]. Queries are written once, with `$N` placeholders, and run on either backend through the
//! [`on_conn!`] / [`on_tx!`] macros, which expand the same code for each pool type. SQLite gets a
//! single writer connection (writes are serialized by SQLite anyway; one writer avoids
//! `SQLITE_BUSY` under load) and a small pool of readers.

pub mod api_tokens;
pub mod audit;
pub mod checkpoints;
pub mod connections;
pub mod customers;
pub mod dashboard;
pub mod exports;
pub mod health;
pub mod inbox;
pub mod leases;
pub mod mappings;
pub mod oauth_states;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod reconciliation;
pub mod session_store;
pub mod sign_in_throttle;
pub mod sync_logs;
pub mod sync_runs;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod webhook_receipts;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Storage failures, classified for the callers that care.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (the constraint's name is kept for mapping).
    #[error("unique constraint violated: {0}")]
    Duplicate(String),
    /// The URL names no supported backend.
    #[error("unsupported DATABASE_URL scheme (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    /// Any other database failure.
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// Migration failure.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A storage task this process relies on is gone (shutting down).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Duplicate(db.constraint().unwrap_or(db.message()).to_string());
            }
        }
        StoreError::Sqlx(err)
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a database is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The connection pools.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: one writer connection and a few readers on the same file.
    Sqlite {
        /// The only connection that writes.
        writer: SqlitePool,
        /// Read-only work.
        reader: SqlitePool,
    },
    /// PostgreSQL: one pool.
    Postgres(PgPool),
}

/// A pool to run one statement on.
#[derive(Clone, Copy, Debug)]
pub enum Conn<'a> {
    /// SQLite pool.
    Sqlite(&'a SqlitePool),
    /// PostgreSQL pool.
    Postgres(&'a PgPool),
}

/// An open transaction on either backend.
#[derive(Debug)]
pub enum Tx {
    /// SQLite transaction (on the writer).
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool of a [`Conn`].
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $pool:ident => $body:expr) => {
        match $conn {
            $crate::server::store::Conn::Sqlite($pool) => $body,
            $crate::server::store::Conn::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the concrete connection of a [`Tx`].
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::server::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::server::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). A SQLite file and its directory are
    /// created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or("").to_string(),
            ))
        }
    }

    async fn connect_sqlite(url: &str) -> StoreResult<Db> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlx(sqlx::Error::Io(e)))?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite { writer, reader })
    }

    /// The database's clock, which decides leases and claims (DESIGN § 14): PostgreSQL's
    /// `now()` — read once per pass and bound into the statements, so several instances with
    /// skewed clocks agree — and this process's clock on SQLite, whose file has one process.
    pub async fn now(&self) -> StoreResult<DateTime<Utc>> {
        match self {
            Db::Sqlite { .. } => Ok(crate::server::time::now()),
            Db::Postgres(pool) => {
                let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
                Ok(crate::server::time::truncate(now))
            }
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A pool for statements that only read.
    pub fn read(&self) -> Conn<'_> {
        match self {
            Db::Sqlite { reader, .. } => Conn::Sqlite(reader),
            Db::Postgres(pool) => Conn::Postgres(pool),
        }
    }

    /// A pool for statements that write.
    pub fn write(&self) -> Conn<'_> {
        match self {
            Db::Sqlite { writer, .. } => Conn::Sqlite(writer),
            Db::Postgres(pool) => Conn::Postgres(pool),
        }
    }

    /// Starts a transaction (on the writer for SQLite).
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Applies pending migrations of this backend's dialect.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("migrations/sqlite").run(writer).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers and every migration this build knows is applied.
    pub async fn is_ready(&self) -> StoreResult<bool> {
        let expected = match self {
            Db::Sqlite { .. } => sqlx::migrate!("migrations/sqlite").iter().count(),
            Db::Postgres(_) => sqlx::migrate!("migrations/postgres").iter().count(),
        };
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let applied: i64 = on_conn!(self.read(), p => sqlx::query_scalar(sql).fetch_one(p).await)?;
        Ok(usize::try_from(applied).unwrap_or(0) >= expected)
    }

    /// Closes every pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The text sqlx's SQLite driver writes for a UTC timestamp: rows built as JSON for a
/// `json_each` insert must use it so they compare and decode like rows bound one by one.
pub(crate) fn sqlite_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A UUID as the hex that SQLite's `unhex()` turns back into sqlx's 16-byte BLOB.
pub(crate) fn sqlite_id(id: uuid::Uuid) -> String {
    id.simple().to_string()
}

impl Db {
    /// SQLite: moves WAL checkpoints out of the commit path. The writer stops checkpointing on
    /// its own (`wal_autocheckpoint=0`, for this connection's life) and this loop runs a PASSIVE
    /// checkpoint every `every` from a reader connection, which never blocks the writer. Should
    /// the writer connection be replaced, SQLite's default (every 1,000 pages) applies again.
    /// Returns at once on PostgreSQL.
    pub async fn run_sqlite_checkpoints(
        &self,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let Db::Sqlite { writer, reader } = self else {
            return;
        };
        if let Err(err) = sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(writer)
            .await
        {
            tracing::warn!(error = %err, "could not move SQLite checkpoints off the commit path");
            return;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {}
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(reader)
                .await
            {
                tracing::warn!(error = %err, "SQLite checkpoint failed");
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
