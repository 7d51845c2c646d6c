//! Leases, claims and per-record order are judged by the database's clock (DESIGN § 14). Two
//! instances share one PostgreSQL database; the second runs the real binary under Debian's
//! `faketime` with its clock 60 s ahead — more than a lease lasts. It must neither take over the
//! first one's live lease nor put its own older write of a record group behind a later one.

use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

use crate::helpers::{postgres_url, spawn_app, Backend, TestApp};
use crate::outbox::{connect, demo_tenant, rows};
use crate::restart::{free_port, sign_in, BIN};
use crate::scripted::ScriptedAdapter;
use chrono::TimeDelta;
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::store::connections;
use reqwest::Method;

/// Whether Debian's faketime is here; CI installs it (scripts/setup.sh).
fn faketime_available() -> bool {
    let found = std::process::Command::new("faketime")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have faketime (scripts/setup.sh installs it)"
        );
        eprintln!("note: faketime is not installed; skipping the clock-skew test");
    }
    found
}

/// The binary under `faketime +60s`, on the test's database, with or without its worker.
async fn start_skewed(db_url: &str, worker: bool, dir: &std::path::Path) -> (Child, String) {
    let port = free_port();
    let mut cmd = Command::new("faketime");
    cmd.args(["-f", "+60s", BIN, "serve", "--demo"])
        .env("DATABASE_URL", db_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("SANDBOX_BIND", format!("127.0.0.1:{}", free_port()))
        .env("SANDBOX_DB", dir.join(format!("sandbox-{port}.db")))
        .env("NETSUITE_SANDBOX_BIND", "127.0.0.1:0")
        .env(
            "NETSUITE_SANDBOX_DB",
            dir.join(format!("netsuite-{port}.db")),
        )
        .env("OUTBOX_POLL_MS", "50")
        .env("OUTBOX_LEASE_SECONDS", "5")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    if !worker {
        cmd.env("OUTBOX_DISABLED", "true");
    }
    let child = cmd.spawn().expect("faketime");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the skewed instance did not come up");
}

fn worker(app: &TestApp, adapter: Arc<ScriptedAdapter>) -> OutboxWorker {
    let cfg = WorkerConfig {
        lease_ttl: TimeDelta::seconds(3),
        ..crate::outbox::fast_worker()
    };
    OutboxWorker::new(
        app.state.db.clone(),
        Adapters::new().with(Provider::QuickBooks, adapter),
        cfg,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_sixty_seconds_ahead_neither_steals_a_lease_nor_reorders_a_record() {
    if postgres_url().is_none() || !faketime_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(Backend::Postgres).await;
    let db = &app.state.db;
    let tenant = demo_tenant(db).await;
    // A connection without tokens: any delivery by the skewed instance would be refused and
    // park it as "reconnect required", which the test would see.
    connect(db, tenant, Provider::QuickBooks).await;
    let admin = app.as_role(Some(Role::Admin)).await;

    // Order: the skewed instance records a payment first, this one a second payment after it.
    let (_, products) = app.get_json(&admin, "/api/v1/products").await;
    let (_, customers) = app.get_json(&admin, "/api/v1/customers").await;
    let body = json!({ "customer_id": customers["items"][0]["id"], "shipping_amount": 0,
        "items": [{ "product_id": products["items"][0]["id"], "quantity": 3 }] });
    let (status, order) = app
        .send_json(&admin, Method::POST, "/api/v1/orders", body)
        .await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["id"].as_str().expect("id").to_string();
    let deliver_all = worker(&app, Arc::new(ScriptedAdapter::ok()));
    deliver_all.run_once().await.expect("pass"); // OrderCreated out of the way
    let (mut skewed, skewed_base) = start_skewed(&app.db_url, false, dir.path()).await;
    let skewed_admin = sign_in(&skewed_base).await;
    let paid = skewed_admin
        .post(format!("{skewed_base}/api/v1/orders/{order_id}/payments"))
        .header("origin", &skewed_base)
        .json(&json!({ "amount": 100 }))
        .send()
        .await
        .expect("payment");
    assert_eq!(paid.status(), 201, "{:?}", paid.text().await);
    let (status, body) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/v1/orders/{order_id}/payments"),
            json!({ "amount": 200 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    skewed.kill().await.expect("kill");
    let payments: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.entity_type == "Payment" && r.target_system.is_some())
        .collect();
    let amount = |r: &erp_bridge::server::store::outbox::OutboxRow| {
        serde_json::from_str::<Value>(&r.payload).expect("json")["payment"]["amount"].as_i64()
    };
    let first = payments
        .iter()
        .find(|r| amount(r) == Some(100))
        .expect("skewed");
    let second = payments
        .iter()
        .find(|r| amount(r) == Some(200))
        .expect("ours");
    let db_now = db.now().await.expect("now");
    assert!(
        first.scheduled_for.is_some_and(|t| t <= db_now) && first.created_at <= second.created_at,
        "rows are stamped with the database's clock, not pushed 60 s into the future"
    );
    assert!(
        first.seq < second.seq && first.head && !second.head,
        "the sequence keeps the real order"
    );
    let adapter = Arc::new(ScriptedAdapter::ok());
    for _ in 0..3 {
        worker(&app, adapter.clone())
            .run_once()
            .await
            .expect("pass");
    }
    assert_eq!(
        adapter.delivered(),
        vec![first.id, second.id],
        "delivered in the order they happened"
    );

    // Leases: this process holds the pair's lease through a slow batch, renewing it; the skewed
    // instance's worker polls all the while.
    for n in 0..4 {
        let (status, body) = app
            .send_json(
                &admin,
                Method::POST,
                "/api/v1/customers",
                json!({ "name": format!("Clock {n}") }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let slow = Arc::new(ScriptedAdapter::slow(Duration::from_millis(1500)));
    let holder = worker(&app, slow.clone());
    let pass = tokio::spawn(async move { holder.run_once().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_skewed, _) = start_skewed(&app.db_url, true, dir.path()).await;
    let stats = pass.await.expect("join").expect("pass");
    assert_eq!(
        (stats.completed, stats.released),
        (4, 0),
        "the lease held: every outcome settled by its holder"
    );
    let conn = connections::worker_view(db, tenant, "QuickBooks")
        .await
        .expect("view")
        .expect("row");
    assert_eq!(
        conn.status, "Connected",
        "the skewed instance never delivered anything"
    );
    assert_eq!(slow.overlaps(), Vec::<uuid::Uuid>::new());
}
