//! The session store: tower-sessions' sqlx stores, one per backend, behind one type.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Db, StoreResult};

/// Sessions in the application database.
#[derive(Clone, Debug)]
pub enum AppSessionStore {
    /// SQLite (on the writer pool).
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PostgresStore),
}

impl AppSessionStore {
    /// The store for `db`, with its tables created.
    pub async fn for_db(db: &Db) -> StoreResult<Self> {
        Ok(match db {
            Db::Sqlite { writer, .. } => {
                let store = SqliteStore::new(writer.clone());
                store.migrate().await?;
                AppSessionStore::Sqlite(store)
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                AppSessionStore::Postgres(store)
            }
        })
    }
}

#[async_trait]
impl SessionStore for AppSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AppSessionStore::Sqlite(s) => s.create(record).await,
            AppSessionStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AppSessionStore::Sqlite(s) => s.save(record).await,
            AppSessionStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AppSessionStore::Sqlite(s) => s.load(id).await,
            AppSessionStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AppSessionStore::Sqlite(s) => s.delete(id).await,
            AppSessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for AppSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            AppSessionStore::Sqlite(s) => s.delete_expired().await,
            AppSessionStore::Postgres(s) => s.delete_expired().await,
        }
    }
}
