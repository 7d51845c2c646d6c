//! A token refresh cannot be cut between Intuit rotating the refresh token and our storing it:
//! the delivery that needed it may give up at its deadline, but the refresh runs to the end.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

use crate::both_backends;
use crate::helpers::Backend;
use crate::quickbooks::qbo_app;
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use reqwest::Method;

both_backends!(a_refresh_outlives_the_delivery_that_gave_up_on_it);

async fn a_refresh_outlives_the_delivery_that_gave_up_on_it(backend: Backend) {
    let q = qbo_app(backend, |cfg, s| {
        cfg.access_token_ttl = chrono::TimeDelta::seconds(4);
        cfg.rotate_refresh_after = chrono::TimeDelta::zero();
        s.refresh_margin = chrono::TimeDelta::zero();
    })
    .await;
    q.connect().await;
    tokio::time::sleep(Duration::from_millis(4100)).await; // the access token has expired
                                                           // Intuit rotates the refresh token, then takes longer to answer than the delivery may wait.
    q.faults(json!({ "token_latency_ms": 1500 })).await;
    let admin = q.app.as_role(Some(Role::Admin)).await;
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": "Rotated Ltd" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let worker = |deadline: Duration| {
        let cfg = WorkerConfig {
            event_deadline: deadline,
            backoff_unit: Duration::from_millis(1),
            ..WorkerConfig::default()
        };
        let adapters = Adapters::new().with(Provider::QuickBooks, Arc::new(q.qb()));
        OutboxWorker::new(q.app.state.db.clone(), adapters, cfg)
    };
    let gave_up = worker(Duration::from_millis(400))
        .run_once()
        .await
        .expect("pass");
    assert_eq!(
        (gave_up.failed, gave_up.completed),
        (1, 0),
        "the delivery ran past its deadline"
    );
    // The refresh itself went on and kept the rotated tokens.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    q.faults(json!({})).await;
    assert_eq!(q.counter("refreshes").await, 1);
    let done = worker(Duration::from_secs(10))
        .run_once()
        .await
        .expect("pass");
    assert_eq!(done.completed, 1, "{done:?}");
    assert_eq!(
        (
            q.counter("refreshes").await,
            q.counter("invalid_grants").await
        ),
        (1, 0),
        "the stored tokens were the rotated ones: no second refresh, no invalid_grant"
    );
    let card = q.card(&admin).await;
    assert_eq!(card["status"], "Connected", "{card}");
}
