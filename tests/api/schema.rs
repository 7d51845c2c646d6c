//! The SQLite and PostgreSQL migrations define the same tables and columns.

use crate::helpers::{postgres_url, Backend, TestDb};
use std::collections::{BTreeMap, BTreeSet};

type Schema = BTreeMap<String, BTreeSet<String>>;

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    if postgres_url().is_none() {
        return;
    }
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let postgres = TestDb::new(Backend::Postgres).await;
    let (s, p) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    assert!(
        s.contains_key("integration_outbox") && s.len() >= 19,
        "{:?}",
        s.keys()
    );
    assert_eq!(s, p);
}

async fn sqlite_schema(db: &TestDb) -> Schema {
    let erp_bridge::server::store::Db::Sqlite { reader, .. } = db.connect().await else {
        panic!("sqlite")
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name <> 'tower_sessions'",
    )
    .fetch_all(&reader)
    .await
    .expect("tables");
    let mut schema = Schema::new();
    for t in tables {
        let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&t)
            .fetch_all(&reader)
            .await
            .expect("columns");
        schema.insert(t, cols.into_iter().collect());
    }
    schema
}

async fn postgres_schema(db: &TestDb) -> Schema {
    let erp_bridge::server::store::Db::Postgres(pool) = db.connect().await else {
        panic!("postgres")
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .expect("columns");
    let mut schema = Schema::new();
    for (t, c) in rows {
        schema.entry(t).or_default().insert(c);
    }
    schema
}
