//! NetSuite misbehaving, over real HTTP against the sandbox: a write committed whose answer
//! never arrives (the retry finds the record by its external id: no second record), and a storm
//! of 429s (waited out by the client's pacing: every order delivered, no attempt charged).

use crate::both_backends;
use crate::helpers::Backend;
use crate::netsuite_sync::{connected, Setup};
use erp_bridge::domain::connection::Provider;
use erp_bridge::server::erp::netsuite::adapter::NetSuiteAdapter;
use erp_bridge::server::erp::netsuite::client::{NetSuiteClient, Settings};
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    writes_whose_answer_is_lost_after_the_commit_make_no_second_record,
    a_storm_of_429s_is_paced_out_without_a_charged_attempt,
    an_outage_stops_a_batch_after_a_run_of_failures
);

impl Setup {
    async fn sandbox_control(&self, path: &str, body: Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", self.sandbox.base_url))
            .json(&body)
            .send()
            .await
            .expect("sandbox");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }

    /// Runs the worker with a NetSuite client of `settings` until every NetSuite delivery has
    /// finished; the passes that left some unfinished.
    async fn deliver_with(&self, settings: Settings) -> usize {
        let mut ns = self.app.state.netsuite.clone().expect("NetSuite");
        ns.client = NetSuiteClient::new(settings).expect("client");
        let adapters = Adapters::new().with(
            Provider::NetSuite,
            Arc::new(NetSuiteAdapter::new(ns, self.app.state.db.clone())),
        );
        let cfg = WorkerConfig {
            backoff_unit: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let mut passes = 0;
        loop {
            OutboxWorker::new(self.app.state.db.clone(), adapters.clone(), cfg.clone())
                .run_once()
                .await
                .expect("pass");
            let open: Vec<_> = self
                .netsuite_rows()
                .await
                .into_iter()
                .filter(|(_, status, _)| !matches!(status.as_str(), "Completed" | "Superseded"))
                .collect();
            if open.is_empty() {
                return passes;
            }
            passes += 1;
            assert!(passes < 100, "not delivered: {open:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn charged_attempts(&self) -> i64 {
        crate::outbox::rows(&self.app.state.db, self.tenant)
            .await
            .into_iter()
            .filter(|r| r.target_system.as_deref() == Some("NetSuite"))
            .map(|r| r.retry_count)
            .sum()
    }
}

async fn writes_whose_answer_is_lost_after_the_commit_make_no_second_record(backend: Backend) {
    let s = connected(backend).await;
    // The next two record writes are saved, then their answers held past our client's patience:
    // the customer's upsert first, then (on the retry) the sales order's.
    s.sandbox_control(
        "/_sandbox/faults",
        json!({ "lost_answers": 2, "lost_answer_ms": 4000 }),
    )
    .await;
    let order = s.order(1).await;
    s.pay(&order).await;
    let passes = s
        .deliver_with(Settings {
            request_timeout: Duration::from_millis(1500),
            ..Settings::default()
        })
        .await;
    assert!(passes >= 2, "two answers were lost, so two retries");
    assert_eq!(s.query("SELECT id FROM customer").await.items.len(), 1);
    let orders = s.query("SELECT id FROM transaction").await;
    assert_eq!(orders.items.len(), 1, "one sales order");
    let lines = s
        .query(&format!(
            "SELECT quantity FROM transactionline WHERE transaction = {}",
            orders.items[0]["id"]
        ))
        .await;
    assert_eq!(lines.items.len(), 2, "its lines not doubled");
}

async fn a_storm_of_429s_is_paced_out_without_a_charged_attempt(backend: Backend) {
    let s = connected(backend).await;
    // The account takes one request at a time; our client sends four side by side.
    s.sandbox_control("/_sandbox/limits", json!({ "concurrency": 1 }))
        .await;
    s.sandbox_control("/_sandbox/faults", json!({ "latency_ms": 20 }))
        .await;
    const ORDERS: usize = 8;
    for _ in 0..ORDERS {
        let order = s.order(1).await;
        s.pay(&order).await;
    }
    s.deliver_with(Settings {
        concurrency: 4,
        throttle_wait: Duration::from_millis(25),
        throttle_attempts: 12,
        ..Settings::default()
    })
    .await;
    let stats: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/stats", s.sandbox.base_url))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert!(stats["throttled"].as_u64().unwrap_or(0) > 0, "{stats}");
    assert_eq!(s.charged_attempts().await, 0, "429s cost no attempt");
    let orders = s
        .query("SELECT id, externalid FROM transaction WHERE type = 'SalesOrd'")
        .await;
    assert_eq!(orders.items.len(), ORDERS, "every order, once");
    let mut eids: Vec<_> = orders
        .items
        .iter()
        .filter_map(|r| r.get("externalid"))
        .collect();
    eids.sort();
    eids.dedup();
    assert_eq!(eids.len(), ORDERS);
}

async fn an_outage_stops_a_batch_after_a_run_of_failures(backend: Backend) {
    let s = connected(backend).await;
    // NetSuite answers every request with a 500.
    s.sandbox_control("/_sandbox/faults", json!({ "error_rate_5xx": 1.0 }))
        .await;
    for _ in 0..10 {
        let order = s.order(1).await;
        s.pay(&order).await;
    }
    let ns = s.app.state.netsuite.clone().expect("NetSuite");
    let adapters = Adapters::new().with(
        Provider::NetSuite,
        Arc::new(NetSuiteAdapter::new(ns, s.app.state.db.clone())),
    );
    OutboxWorker::new(s.app.state.db.clone(), adapters, WorkerConfig::default())
        .run_once()
        .await
        .expect("pass");
    // One pass, one batch of ten: after three ERP-side failures and no success it starts no
    // more; the others are left as they were, at no cost.
    assert_eq!(s.charged_attempts().await, 3);
}
