//! Several workers with separate pools on one database: never the same row at once, every row
//! delivered, a killed worker's lease taken over, and a stale owner fenced off.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use crate::outbox::{connect, demo_tenant, fast_worker, rows};
use crate::scripted::{ScriptedAdapter, Step};
use chrono::TimeDelta;
use erp_bridge::domain::connection::Provider;
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::outbox::{self, NewEvent};
use erp_bridge::server::store::outbox::{status, Settle};
use erp_bridge::server::store::{outbox as outbox_store, Db};
use erp_bridge::server::time;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

both_backends!(
    two_workers_deliver_every_row_once_and_never_concurrently,
    a_killed_worker_loses_nothing_and_a_stale_owner_is_fenced
);

async fn enqueue_many(db: &Db, tenant: Uuid, n: usize) {
    let mut tx = db.begin().await.expect("tx");
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
        outbox::enqueue(&mut tx, tenant, &event, time::now())
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
}

fn worker(
    db: &Db,
    adapter: Arc<ScriptedAdapter>,
    owner: &str,
    lease_ms: i64,
    batch: i64,
) -> OutboxWorker {
    let cfg = WorkerConfig {
        owner: owner.into(),
        batch_size: batch,
        lease_ttl: TimeDelta::milliseconds(lease_ms),
        ..fast_worker()
    };
    OutboxWorker::new(
        db.clone(),
        Adapters::new().with(Provider::QuickBooks, adapter),
        cfg,
    )
}

async fn two_workers_deliver_every_row_once_and_never_concurrently(backend: Backend) {
    let app = spawn_app(backend).await;
    let db1 = app.state.db.clone();
    let db2 = Db::connect(&app.db_url, 5).await.expect("second pool");
    let tenants = [demo_tenant(&db1).await, app.other_tenant];
    for t in tenants {
        connect(&db1, t, Provider::QuickBooks).await;
        enqueue_many(&db1, t, 60).await;
    }
    let adapter = Arc::new(ScriptedAdapter::slow(Duration::from_millis(1)));
    let run = |db: Db, owner: &'static str| {
        let w = worker(&db, adapter.clone(), owner, 10_000, 7);
        tokio::spawn(async move {
            for _ in 0..400 {
                if w.run_once().await.expect("pass").completed == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let (a, b) = (run(db1.clone(), "worker-a"), run(db2.clone(), "worker-b"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut pending = 0;
        for t in tenants {
            pending += rows(&db1, t)
                .await
                .iter()
                .filter(|r| r.status != status::COMPLETED)
                .count();
        }
        if pending == 0 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.abort();
    b.abort();
    let delivered = adapter.delivered();
    let unique: HashSet<_> = delivered.iter().collect();
    assert!(
        adapter.overlaps().is_empty(),
        "a row was delivered twice at once: {:?}",
        adapter.overlaps()
    );
    assert_eq!(unique.len(), 120, "every row delivered");
    assert_eq!(delivered.len(), 120, "and none twice");
    for t in tenants {
        assert!(rows(&db1, t)
            .await
            .iter()
            .all(|r| r.status == status::COMPLETED));
    }
    db2.close().await;
}

async fn a_killed_worker_loses_nothing_and_a_stale_owner_is_fenced(backend: Backend) {
    let app = spawn_app(backend).await;
    let db1 = app.state.db.clone();
    let db2 = Db::connect(&app.db_url, 5).await.expect("second pool");
    let tenant = demo_tenant(&db1).await;
    connect(&db1, tenant, Provider::QuickBooks).await;
    enqueue_many(&db1, tenant, 5).await;

    // Worker A claims the batch, then hangs inside the ERP call and is killed.
    let hang = Arc::new(ScriptedAdapter::with([Step::Hang]));
    let a = worker(&db1, hang, "worker-a", 400, 10);
    let task = tokio::spawn(async move { a.run_once().await });
    let mut claimed = Vec::new();
    for _ in 0..100 {
        claimed = rows(&db1, tenant)
            .await
            .into_iter()
            .filter(|r| r.status == status::PROCESSING)
            .collect();
        if claimed.len() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(claimed.len(), 5, "A claimed the batch");
    task.abort();
    let stale_token = claimed[0].lease_token.expect("claimed under a lease");

    // B cannot take over while A's lease is live, and can once it has expired.
    let ok = Arc::new(ScriptedAdapter::ok());
    let b = worker(&db2, ok.clone(), "worker-b", 400, 10);
    assert_eq!(
        b.run_once().await.expect("pass").completed,
        0,
        "A's lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        b.run_once().await.expect("pass").completed,
        5,
        "B took over every row"
    );
    assert!(rows(&db1, tenant)
        .await
        .iter()
        .all(|r| r.status == status::COMPLETED));
    assert_eq!(ok.delivered().len(), 5);

    // A wakes up and tries to record its outcome: refused, the row stays completed by B.
    let mut tx = db1.begin().await.expect("tx");
    let late = Settle {
        id: claimed[0].id,
        status: status::FAILED,
        processed_at: None,
        retry_count: 1,
        scheduled_for: Some(time::now()),
        last_error: Some("late".into()),
    };
    assert!(
        !outbox_store::settle(&mut tx, stale_token, &late)
            .await
            .expect("settle"),
        "fenced"
    );
    tx.commit().await.expect("commit");
    let row = outbox_store::get(&db1, tenant, claimed[0].id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.status, status::COMPLETED);
    db2.close().await;
}
