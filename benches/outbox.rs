//! Outbox benchmark: delivery throughput with a no-op adapter (one sync-log row per event, the
//! default batch size), and the cost the outbox adds to an order write (head-of-line upkeep
//! included). `cargo bench --features ssr --bench outbox` (SQLite; set BENCH_DATABASE_URL
//! or TEST_DATABASE_URL to a PostgreSQL server to measure it too). BENCH_EVENTS sets N.
//! Figures go to BENCHMARKS.md with the machine and this command.

mod common;

use async_trait::async_trait;
use erp_bridge::domain::commerce::{ItemStatus, OrderItem, OrderStatus};
use erp_bridge::domain::connection::Provider;
use erp_bridge::server::erp::{Adapters, Delivered, DeliveryError, ErpAdapter, OutboxEvent};
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::outbox::{self, NewEvent};
use erp_bridge::server::store::{connections, customers, orders, products, tenants, Db};
use erp_bridge::server::time;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Accepts every event at once: measures the engine, not an ERP.
struct NoopAdapter;

#[async_trait]
impl ErpAdapter for NoopAdapter {
    async fn deliver(&self, _: &OutboxEvent) -> Result<Delivered, DeliveryError> {
        Ok(Delivered::default())
    }
}

struct Setup {
    db: Db,
    tenant: Uuid,
    customer: Uuid,
    product: Uuid,
}

async fn setup(url: &str, connected: bool) -> Setup {
    let db = Db::connect(url, 10).await.expect("connect");
    db.migrate().await.expect("migrate");
    let tenant = tenants::Tenant {
        id: Uuid::now_v7(),
        name: "bench".into(),
        slug: format!("b{}", Uuid::new_v4().simple()),
        created_at: time::now(),
    };
    let mut tx = db.begin().await.expect("tx");
    tenants::insert(&mut tx, &tenant).await.expect("tenant");
    let c = customers::NewCustomer {
        tenant_id: tenant.id,
        name: "Bench Co".into(),
        email: None,
        phone: None,
    };
    let (customer, _) = customers::insert(&mut tx, &c, time::now())
        .await
        .expect("customer");
    let product = products::create(
        &mut tx,
        tenant.id,
        "B-1",
        "Bench item",
        1000,
        "USD",
        time::now(),
    )
    .await
    .expect("product")
    .id;
    tx.commit().await.expect("commit");
    if connected {
        let company = connections::ConnectedCompany {
            provider: "QuickBooks",
            external_company_id: &tenant.slug,
            company_name: "Bench",
            connected_by: "bench",
        };
        connections::upsert_connected(&db, tenant.id, &company, time::now())
            .await
            .expect("connect");
    }
    Setup {
        db,
        tenant: tenant.id,
        customer,
        product,
    }
}

/// One order (header + two items), optionally with its outbox event, in one transaction.
async fn write_order(s: &Setup, with_event: bool) {
    let now = time::now();
    let mut tx = s.db.begin().await.expect("tx");
    let header = orders::NewOrderRow {
        customer_id: s.customer,
        status: OrderStatus::Placed,
        currency: "USD",
        subtotal: 3000,
        shipping_amount: 0,
    };
    let (id, _) = orders::insert(&mut tx, s.tenant, &header, now)
        .await
        .expect("order");
    for line in 1..=2 {
        let item = OrderItem {
            id: Uuid::now_v7(),
            line_number: line,
            product_id: s.product,
            sku: "B-1".into(),
            description: "Bench item".into(),
            quantity: line,
            unit_price: 1000,
            amount: 1000 * line,
            status: ItemStatus::Pending,
        };
        orders::insert_item(&mut tx, s.tenant, id, &item, now)
            .await
            .expect("item");
    }
    if with_event {
        let event = NewEvent {
            event_type: outbox::events::ORDER_CREATED,
            entity_type: "Order",
            entity_id: id,
            version: 1,
            payload: serde_json::json!({ "order": { "id": id, "total": 3000 } }),
            correlation_id: Some(id),
            origin: None,
        };
        outbox::enqueue(&mut tx, s.tenant, &event, now)
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
}

async fn bench_backend(label: &str, url: &str, n: usize) {
    // Enqueue cost: the same order write with and without its outbox row, interleaved in
    // rounds so that table growth and background work weigh on both alike.
    let plain = setup(url, true).await;
    let rounds = 10;
    let per_round = (n / 4 / rounds).max(50);
    let (mut alone_secs, mut with_secs) = (0.0, 0.0);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..per_round {
            write_order(&plain, false).await;
        }
        alone_secs += started.elapsed().as_secs_f64();
        let started = Instant::now();
        for _ in 0..per_round {
            write_order(&plain, true).await;
        }
        with_secs += started.elapsed().as_secs_f64();
    }
    let writes = (rounds * per_round) as f64;
    let (alone, with_outbox) = (writes / alone_secs, writes / with_secs);
    println!("{label}: order writes alone {alone:.0}/s, with outbox row {with_outbox:.0}/s (ratio {:.2})", with_outbox / alone);

    // Delivery: N pending events drained by one worker with a no-op adapter.
    let s = setup(url, true).await;
    let mut tx = s.db.begin().await.expect("tx");
    for i in 0..n {
        let event = NewEvent {
            event_type: outbox::events::CUSTOMER_UPDATED,
            entity_type: "Customer",
            entity_id: Uuid::now_v7(),
            version: 1,
            payload: serde_json::json!({ "n": i }),
            correlation_id: None,
            origin: None,
        };
        outbox::enqueue(&mut tx, s.tenant, &event, time::now())
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    // The default OUTBOX_BATCH_SIZE (200), as the service runs.
    let cfg = WorkerConfig::default();
    let worker = OutboxWorker::new(
        s.db.clone(),
        Adapters::new().with(Provider::QuickBooks, Arc::new(NoopAdapter)),
        cfg,
    );
    let started = Instant::now();
    let mut delivered = 0;
    while delivered < n {
        let stats = worker
            .process_pair(s.tenant, Provider::QuickBooks)
            .await
            .expect("pass");
        assert!(stats.completed > 0, "progress");
        delivered += stats.completed;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: delivered {delivered} events in {secs:.2} s = {:.0} events/s",
        delivered as f64 / secs
    );
    s.db.close().await;
    plain.db.close().await;
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    // BENCH_ONLY=postgres or sqlite runs one backend (compare.sh runs PostgreSQL only).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    if only != "postgres" {
        bench_backend("sqlite", &sqlite, n).await;
    }
    if only == "sqlite" {
        return;
    }
    common::with_postgres("outbox", |url| async move {
        bench_backend("postgres", &url, n).await
    })
    .await;
}
