//! What the benchmarks share: a scratch PostgreSQL database when one is configured, and a
//! process's resident memory.

use std::future::Future;
use uuid::Uuid;

/// Runs `bench` against a fresh PostgreSQL database on the server named by BENCH_DATABASE_URL
/// (or TEST_DATABASE_URL), dropped afterwards; says so and does nothing when neither is set.
#[allow(dead_code)] // not every bench runs on PostgreSQL
pub async fn with_postgres<F, Fut>(what: &str, bench: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let url = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"));
    let Ok(url) = url.map(|u| u.trim().to_string()).and_then(|u| {
        if u.is_empty() {
            Err(std::env::VarError::NotPresent)
        } else {
            Ok(u)
        }
    }) else {
        println!("{what} [postgres]: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)");
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    let name = format!("erp_bridge_bench_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create");
    let mut bench_url = url::Url::parse(&url).expect("url");
    bench_url.set_path(&format!("/{name}"));
    bench(bench_url.to_string()).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop");
}

/// A process's resident memory (kB) from /proc; None once it has exited.
#[allow(dead_code)] // not every bench samples memory
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// A setting from the environment, or `default`.
#[allow(dead_code)] // not every bench reads settings
pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One number from the database (`SELECT count(*) …`).
#[allow(dead_code)] // not every bench counts rows
pub async fn count(db: &erp_bridge::server::store::Db, sql: &str) -> i64 {
    erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(sql).fetch_one(p).await).expect("count")
}
