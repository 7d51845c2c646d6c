//! Console benchmark (issue 10): the sync log viewer, the mapping search and the CSV export at
//! scale. `cargo bench --features ssr --bench console` (SQLite; set BENCH_DATABASE_URL or
//! TEST_DATABASE_URL to a PostgreSQL server to measure it too; BENCH_ONLY=sqlite|postgres picks
//! one). BENCH_LOG_ROWS (default 1,000,000) log rows across 100 tenants, one of them holding
//! half; BENCH_MAPPINGS (100,000) mappings of that tenant; BENCH_RUNS (200) timings per query.
//!
//! Every figure is the service call the route and the page make (`sync_log_view::list`: the
//! page plus its capped count; `mappings_view::list`; `exports::stream`), timed here from
//! the caller's side: no HTTP or JSON. Rows are written through the store's own batched insert,
//! so they are laid out as the worker lays them out. The query plans are printed beneath.
//! Figures go to BENCHMARKS.md with the machine and this command.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use erp_bridge::server::auth::Principal;
use erp_bridge::server::service::exports::{self, Export};
use erp_bridge::server::service::mappings_view::{self, MappingQuery};
use erp_bridge::server::service::sync_log_view::{self, LogDirection, LogQuery, LogStatus};
use erp_bridge::server::store::sync_logs::{self, LogFilter, Position, SyncLogRow};
use erp_bridge::server::store::{connections, mappings, tenants, Db};
use erp_bridge::server::time;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::future::Future;
use std::time::{Duration, Instant};
use uuid::Uuid;

const TENANTS: usize = 100;
const SPAN_DAYS: i64 = 180;
const REALM: &str = "bench-realm";

/// What one tenant's seeded log looks like, for picking search terms.
struct Seeded {
    records: Vec<Uuid>,
    externals: Vec<String>,
}

/// Picks from `(weight, value)` pairs.
fn pick<T: Copy>(rng: &mut StdRng, table: &[(u32, T)]) -> T {
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (w, v) in table {
        if roll < *w {
            return *v;
        }
        roll -= w;
    }
    table[table.len() - 1].1
}

/// `count` log rows of `tenant` spread evenly over the last [`SPAN_DAYS`] days, written in
/// batches through `sync_logs::insert_many`. The mix: 70 % QuickBooks, a tenth inbound, 4.5 %
/// failed, 0.5 % in progress — so some filters match many rows and some very few.
async fn seed_logs(db: &Db, tenant: Uuid, count: usize, rng: &mut StdRng) -> Seeded {
    let records: Vec<Uuid> = (0..(count / 4).max(1)).map(|_| Uuid::new_v4()).collect();
    let externals: Vec<String> = (0..records.len()).map(|i| (1000 + i).to_string()).collect();
    let start = time::now() - TimeDelta::days(SPAN_DAYS);
    let step = TimeDelta::days(SPAN_DAYS).num_milliseconds() / count.max(1) as i64;
    let mut batch = Vec::with_capacity(2000);
    for i in 0..count {
        let record = rng.random_range(0..records.len());
        let provider = pick(rng, &[(70, "QuickBooks"), (30, "NetSuite")]);
        let entity = pick(
            rng,
            &[
                (20, "Customer"),
                (20, "Order"),
                (35, "Invoice"),
                (25, "Payment"),
            ],
        );
        let direction = pick(rng, &[(90, "ToExternal"), (10, "FromExternal")]);
        let status = pick(
            rng,
            &[
                (880, "Completed"),
                (60, "Skipped"),
                (45, "Failed"),
                (10, "Pending"),
                (5, "InProgress"),
            ],
        );
        let error = match status {
            "Failed" => Some(
                "rejected: Business Validation Error: the name supplied already exists."
                    .to_string(),
            ),
            "Skipped" => Some(
                "Skipped: QuickBooks receives an invoice when the order is paid in full"
                    .to_string(),
            ),
            _ => None,
        };
        let started =
            start + TimeDelta::milliseconds(step * i as i64 + rng.random_range(0..step.max(1)));
        batch.push(SyncLogRow {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            provider: provider.into(),
            entity_type: entity.into(),
            entity_id: Some(records[record].to_string()),
            external_id: Some(externals[record].clone()),
            event_type: Some(format!("{entity}Updated")),
            outbox_id: Some(Uuid::new_v4()),
            direction: direction.into(),
            status: status.into(),
            error_message: error,
            request_payload: None,
            response_payload: None,
            started_at: started,
            completed_at: Some(started + TimeDelta::milliseconds(180)),
            duration_ms: Some(rng.random_range(40..900)),
            retry_count: 0,
            correlation_id: None,
        });
        if batch.len() == 2000 || i + 1 == count {
            let mut tx = db.begin().await.expect("tx");
            sync_logs::insert_many(&mut tx, &batch).await.expect("logs");
            tx.commit().await.expect("commit");
            batch.clear();
        }
    }
    Seeded { records, externals }
}

/// p50, p95 and the slowest of some timings.
struct Stats {
    p50: Duration,
    p95: Duration,
    max: Duration,
    n: usize,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        max: at(1.0),
        n: v.len(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn report(backend: &str, what: &str, s: &Stats) {
    println!(
        "| {backend} | {what} | {} | {} | {} | {} |",
        s.n,
        ms(s.p50),
        ms(s.p95),
        ms(s.max)
    );
}

/// Times `runs` calls of `f` (after five not counted).
async fn timed<F, Fut>(runs: usize, mut f: F) -> Stats
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    for i in 0..5 {
        f(i).await;
    }
    let mut v = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i).await;
        v.push(t.elapsed());
    }
    stats(v)
}

fn query() -> LogQuery {
    LogQuery {
        per_page: Some(50),
        ..LogQuery::default()
    }
}

/// A random window of `days` inside the seeded span.
fn window(rng: &mut StdRng, days: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = time::now() - TimeDelta::days(rng.random_range(days..SPAN_DAYS));
    (from, from + TimeDelta::days(days))
}

async fn bench_backend(backend: &str, url: &str) {
    let rows: usize = common::env("BENCH_LOG_ROWS", 1_000_000);
    let mapping_count: usize = common::env("BENCH_MAPPINGS", 100_000);
    let runs: usize = common::env("BENCH_RUNS", 200);
    let db = Db::connect(url, 10).await.expect("connect");
    db.migrate().await.expect("migrate");
    let mut rng = StdRng::seed_from_u64(42);

    let mut ids = Vec::new();
    let mut tx = db.begin().await.expect("tx");
    for i in 0..TENANTS {
        let t = tenants::Tenant {
            id: Uuid::now_v7(),
            name: format!("bench {i}"),
            slug: format!("b{}", Uuid::new_v4().simple()),
            created_at: time::now(),
        };
        tenants::insert(&mut tx, &t).await.expect("tenant");
        ids.push(t.id);
    }
    tx.commit().await.expect("commit");
    let big = ids[0];

    let t = Instant::now();
    let seeded = seed_logs(&db, big, rows / 2, &mut rng).await;
    let each = rows / 2 / (TENANTS - 1);
    for tenant in &ids[1..] {
        seed_logs(&db, *tenant, each, &mut rng).await;
    }
    println!(
        "{backend}: {} log rows written in {:.0} s",
        rows / 2 + each * (TENANTS - 1),
        t.elapsed().as_secs_f64()
    );
    if let Db::Postgres(pool) = &db {
        // What autovacuum does after a bulk load, done now rather than waited for.
        sqlx::query("VACUUM ANALYZE integration_sync_logs")
            .execute(pool)
            .await
            .expect("analyze");
    }

    let me = Principal::system(big);
    println!(
        "\n| backend | query (tenant with {} rows) | runs | p50 ms | p95 ms | max ms |",
        rows / 2
    );
    println!("|---|---|---|---|---|---|");
    let list = |q: LogQuery| {
        let db = db.clone();
        let me = me.clone();
        async move { sync_log_view::list(&db, &me, q).await.expect("list") }
    };
    let s = timed(runs, |_| async {
        list(query()).await;
    })
    .await;
    report(backend, "first page, no filter", &s);
    let singles: [(&str, LogQuery); 6] = [
        (
            "ERP = NetSuite",
            LogQuery {
                provider: Some("netsuite".into()),
                ..query()
            },
        ),
        (
            "record type = Payment",
            LogQuery {
                entity_type: Some("Payment".into()),
                ..query()
            },
        ),
        (
            "direction = from the ERP",
            LogQuery {
                direction: Some(LogDirection::FromExternal),
                ..query()
            },
        ),
        (
            "status = Failed (4.5 %)",
            LogQuery {
                status: Some(LogStatus::Failed),
                ..query()
            },
        ),
        (
            "status = InProgress (0.5 %)",
            LogQuery {
                status: Some(LogStatus::InProgress),
                ..query()
            },
        ),
        (
            "record type = Product (none)",
            LogQuery {
                entity_type: Some("Product".into()),
                ..query()
            },
        ),
    ];
    for (what, q) in singles {
        let s = timed(runs, |_| {
            let q = q.clone();
            async {
                list(q).await;
            }
        })
        .await;
        report(backend, what, &s);
    }
    let windows: Vec<_> = (0..runs + 5).map(|_| window(&mut rng, 7)).collect();
    let s = timed(runs, |i| {
        let (from, to) = windows[i];
        async move {
            list(LogQuery {
                from: Some(from),
                to: Some(to),
                ..query()
            })
            .await;
        }
    })
    .await;
    report(backend, "date range (7 days)", &s);
    let windows: Vec<_> = (0..runs + 5).map(|_| window(&mut rng, 30)).collect();
    let s = timed(runs, |i| {
        let (from, to) = windows[i];
        async move {
            list(LogQuery {
                status: Some(LogStatus::Failed),
                from: Some(from),
                to: Some(to),
                ..query()
            })
            .await;
        }
    })
    .await;
    report(backend, "status = Failed + 30-day range", &s);
    let picks: Vec<usize> = (0..runs + 5)
        .map(|_| rng.random_range(0..seeded.records.len()))
        .collect();
    let s = timed(runs, |i| {
        let q = seeded.records[picks[i]].to_string();
        async move {
            list(LogQuery {
                q: Some(q),
                ..query()
            })
            .await;
        }
    })
    .await;
    report(backend, "record search (our id)", &s);
    let s = timed(runs, |i| {
        let q = seeded.externals[picks[i]].clone();
        async move {
            list(LogQuery {
                q: Some(q),
                ..query()
            })
            .await;
        }
    })
    .await;
    report(backend, "record search (ERP id)", &s);
    let s = timed(runs, |_| async {
        list(LogQuery {
            page: Some(500),
            ..query()
        })
        .await;
    })
    .await;
    report(backend, "page 500 by number (offset 24,950)", &s);

    // Walk to page 500 by cursor, timing every step, then time page 500 itself.
    let mut steps = Vec::new();
    let mut cursor = list(query()).await.cursor;
    for _ in 2..500 {
        let t = Instant::now();
        let page = list(LogQuery {
            cursor: cursor.clone(),
            ..query()
        })
        .await;
        steps.push(t.elapsed());
        cursor = page.cursor;
    }
    report(backend, "pages 2–499 by cursor (the walk)", &stats(steps));
    let s = timed(runs, |_| {
        let c = cursor.clone();
        async {
            list(LogQuery {
                cursor: c,
                ..query()
            })
            .await;
        }
    })
    .await;
    report(backend, "page 500 by cursor", &s);
    let last = list(LogQuery {
        cursor: cursor.clone(),
        ..query()
    })
    .await;
    assert_eq!(last.page, 500, "the walk reached page 500");

    let small = Principal::system(ids[1]);
    let s = timed(runs, |_| {
        let db = db.clone();
        let small = small.clone();
        async move {
            sync_log_view::list(&db, &small, query())
                .await
                .expect("list");
        }
    })
    .await;
    report(
        backend,
        &format!("first page of a tenant with {each} rows"),
        &s,
    );

    // Mappings: one connected company with `mapping_count` customer mappings.
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: REALM,
        company_name: "Bench",
        connected_by: "bench",
    };
    connections::upsert_connected(&db, big, &company, time::now())
        .await
        .expect("connect");
    let scope = mappings::Scope {
        tenant_id: big,
        provider: "QuickBooks",
        external_company_id: REALM,
        entity_type: "Customer",
    };
    let ours: Vec<String> = (0..mapping_count)
        .map(|_| Uuid::new_v4().to_string())
        .collect();
    let t = Instant::now();
    for (i, id) in ours.iter().enumerate() {
        let m = mappings::Mapping {
            prometheus_id: id.clone(),
            external_id: (5000 + i).to_string(),
            sync_token: Some("0".into()),
            metadata: None,
        };
        mappings::upsert(&db, scope, &m, time::now())
            .await
            .expect("mapping");
    }
    println!(
        "\n{backend}: {mapping_count} mappings written in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    if let Db::Postgres(pool) = &db {
        // As for the log above: what autovacuum does after a bulk load.
        sqlx::query("VACUUM ANALYZE integration_entity_mappings")
            .execute(pool)
            .await
            .expect("analyze");
    }
    println!("\n| backend | mapping query ({mapping_count} mappings) | runs | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    let maps = |q: MappingQuery| {
        let db = db.clone();
        let me = me.clone();
        async move {
            mappings_view::list(&db, &me, "quickbooks", "Customer", q)
                .await
                .expect("mappings")
        }
    };
    let page = |q: Option<String>, page: Option<i64>| MappingQuery {
        q,
        page,
        per_page: Some(50),
    };
    let s = timed(runs, |_| async {
        maps(page(None, None)).await;
    })
    .await;
    report(backend, "first page", &s);
    let picks: Vec<usize> = (0..runs + 5)
        .map(|_| rng.random_range(0..mapping_count))
        .collect();
    let s = timed(runs, |i| {
        let q = ours[picks[i]].clone();
        async move {
            assert_eq!(maps(page(Some(q), None)).await.items.len(), 1);
        }
    })
    .await;
    report(backend, "search by our id", &s);
    let s = timed(runs, |i| {
        let q = (5000 + picks[i]).to_string();
        async move {
            assert_eq!(maps(page(Some(q), None)).await.items.len(), 1);
        }
    })
    .await;
    report(backend, "search by ERP id", &s);
    let s = timed(runs, |_| async {
        maps(page(Some("no-such-id".into()), None)).await;
    })
    .await;
    report(backend, "search, no match", &s);
    let s = timed(runs, |_| async {
        maps(page(None, Some(1000))).await;
    })
    .await;
    report(backend, "page 1,000 by number", &s);

    plans(backend, &db, big).await;
    export(backend, &db, big, rows / 2, &mut rng).await;
}

/// The plans of the viewer's query shapes, page then count.
async fn plans(backend: &str, db: &Db, tenant: Uuid) {
    let text = |s: &str| Some(s.to_string());
    let since = time::now() - TimeDelta::days(60);
    let none = LogFilter::default;
    #[rustfmt::skip]
    let shapes: [(&str, LogFilter); 8] = [
        ("no filter", none()),
        ("provider", LogFilter { provider: text("NetSuite"), ..none() }),
        ("entity type", LogFilter { entity_type: text("Payment"), ..none() }),
        ("direction", LogFilter { direction: text("FromExternal"), ..none() }),
        ("status", LogFilter { status: text("Failed"), ..none() }),
        ("date range", LogFilter { from: Some(since), to: Some(since + TimeDelta::days(7)), ..none() }),
        ("status + date range", LogFilter { status: text("Failed"), from: Some(since), to: Some(since + TimeDelta::days(30)), ..none() }),
        ("record", LogFilter { record: text("1234"), ..none() }),
    ];
    println!("\n{backend}: query plans (page, then count)");
    for (what, f) in shapes {
        for at in [Position::Offset(0), Position::Older(since, Uuid::max())] {
            let (page, count) = sync_logs::plans(db, tenant, &f, 51, at)
                .await
                .expect("plan");
            let key = if matches!(at, Position::Offset(_)) {
                "first page"
            } else {
                "by cursor"
            };
            println!("-- {what}, {key}:");
            for l in page {
                println!("     {l}");
            }
            if matches!(at, Position::Offset(_)) {
                println!("   count:");
                for l in count {
                    println!("     {l}");
                }
            }
        }
    }
}

/// Peak resident memory of this process since the last reset (kB).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM")
}

/// Streams the CSV export of `tenant` over `range`; returns rows, bytes, seconds and the peak
/// resident memory while it ran (the peak is reset first: /proc/self/clear_refs, value 5).
async fn export_once(
    db: &Db,
    tenant: Uuid,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> (usize, usize, f64, u64) {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset peak RSS");
    let t = Instant::now();
    let me = Principal::system(tenant);
    let mut stream =
        Box::pin(exports::stream(db.clone(), &me, Export::SyncLogs, range).expect("export"));
    let (mut rows, mut bytes) = (0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len();
        rows += chunk.iter().filter(|b| **b == b'\n').count();
    }
    (
        rows.saturating_sub(1),
        bytes,
        t.elapsed().as_secs_f64(),
        peak_rss_kb(),
    )
}

/// The export of a quarter of the tenant's rows, then — after doubling them — of all of them:
/// the same peak memory for four and eight times the rows is what "constant" means.
async fn export(backend: &str, db: &Db, tenant: Uuid, rows: usize, rng: &mut StdRng) {
    let all = (
        time::now() - TimeDelta::days(SPAN_DAYS + 1),
        time::now() + TimeDelta::days(1),
    );
    let quarter = (time::now() - TimeDelta::days(SPAN_DAYS / 4), all.1);
    println!("\n| backend | CSV export | rows | MB | seconds | rows/s | peak RSS MB |");
    println!("|---|---|---|---|---|---|---|");
    let line = |what: &str, (n, bytes, secs, peak): (usize, usize, f64, u64)| {
        println!(
            "| {backend} | {what} | {n} | {:.0} | {secs:.1} | {:.0} | {:.1} |",
            bytes as f64 / 1e6,
            n as f64 / secs,
            peak as f64 / 1024.0
        );
    };
    line(
        "a quarter of the tenant's rows",
        export_once(db, tenant, quarter).await,
    );
    seed_logs(db, tenant, rows, rng).await;
    line(
        "every row of the tenant",
        export_once(db, tenant, all).await,
    );
}

#[tokio::main]
async fn main() {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    if only != "postgres" {
        bench_backend("sqlite", &sqlite).await;
    }
    if only == "sqlite" {
        return;
    }
    common::with_postgres("console", |url| async move {
        bench_backend("postgres", &url).await
    })
    .await;
}
