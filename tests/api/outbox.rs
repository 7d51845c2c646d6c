//! The transactional outbox and its worker: same-transaction emission, settings, delivery,
//! backoff, abandonment, auth parking, permanent failures, the breaker, manual retry, echo
//! suppression and retention. Each runs on SQLite and PostgreSQL.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::scripted::{ScriptedAdapter, Step};
use chrono::TimeDelta;
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::breaker::BreakerConfig;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::outbox::{self, maintenance, NewEvent};
use erp_bridge::server::store::outbox::OutboxRow;
use erp_bridge::server::store::{
    connections, customers, outbox as outbox_store, sync_logs, tenants, Db,
};
use erp_bridge::server::time;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

both_backends!(
    writes_and_their_events_commit_or_roll_back_together,
    events_without_a_connected_provider_are_recorded_as_skipped,
    settings_decide_what_is_sent,
    delivered_events_complete_with_a_log_and_no_stored_payload,
    diagnostic_mode_stores_scrubbed_payloads,
    retryable_failures_back_off_then_abandon,
    retry_after_from_the_erp_wins_when_longer,
    auth_failures_park_the_connection_without_using_retries,
    permanent_failures_fail_fast_and_wait_for_a_manual_retry,
    the_breaker_pauses_a_failing_provider_then_probes,
    erp_originated_changes_are_not_echoed_back,
    retention_prunes_old_rows_and_scrubs_old_payloads,
    later_events_of_an_entity_wait_for_earlier_ones,
);

pub async fn demo_tenant(db: &Db) -> Uuid {
    tenants::find_by_slug(db, "demo")
        .await
        .expect("query")
        .expect("demo tenant")
        .id
}

pub async fn connect(db: &Db, tenant: Uuid, provider: Provider) {
    let company = connections::ConnectedCompany {
        provider: provider.as_str(),
        external_company_id: &format!("{}-{tenant}", provider.slug()),
        company_name: "Test Company",
        connected_by: "test",
    };
    connections::upsert_connected(db, tenant, &company, time::now())
        .await
        .expect("connect");
}

/// A running app whose demo tenant is connected to QuickBooks; returns the tenant too.
pub async fn connected_app(backend: Backend) -> (TestApp, Uuid) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    (app, tenant)
}

pub async fn rows(db: &Db, tenant: Uuid) -> Vec<OutboxRow> {
    let (mut rows, _) = outbox_store::list(db, tenant, None, 1000, 0)
        .await
        .expect("list");
    rows.reverse();
    rows
}

pub fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        backoff_unit: Duration::from_millis(1),
        ..WorkerConfig::default()
    }
}

/// One worker pass over every due pair.
pub async fn pass(
    db: &Db,
    adapter: Arc<ScriptedAdapter>,
    cfg: WorkerConfig,
) -> erp_bridge::server::outbox::worker::PassStats {
    worker(db, adapter, cfg).run_once().await.expect("pass")
}

pub fn worker(db: &Db, adapter: Arc<ScriptedAdapter>, cfg: WorkerConfig) -> OutboxWorker {
    OutboxWorker::new(
        db.clone(),
        Adapters::new().with(Provider::QuickBooks, adapter),
        cfg,
    )
}

pub async fn create_customer(app: &TestApp, name: &str) -> Value {
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, body) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": name }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn writes_and_their_events_commit_or_roll_back_together(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let created = create_customer(&app, "Same Tx Ltd").await;
    let id = created["id"].as_str().expect("id");
    let mine: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.entity_id == id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].status.as_str(), mine[0].event_type.as_str()),
        ("Pending", "CustomerCreated")
    );
    assert_eq!(
        mine[0].idempotency_key.as_deref(),
        Some(format!("quickbooks:CustomerCreated:Customer:{id}:1").as_str())
    );

    // The event fails to insert (a duplicate primary key): the customer must not exist either.
    let before = customers::list(db, tenant, 1000, 0).await.expect("list").1;
    let mut tx = db.begin().await.expect("tx");
    let input = erp_bridge::domain::commerce::CustomerInput {
        name: "Ghost".into(),
        ..Default::default()
    };
    customers::create(&mut tx, tenant, &input, time::now())
        .await
        .expect("insert");
    let mut dup = mine[0].clone();
    dup.idempotency_key = Some("another-key".into());
    assert!(
        outbox_store::insert(&mut tx, &dup).await.is_err(),
        "duplicate id is refused"
    );
    drop(tx); // not committed: rolled back
    assert_eq!(
        customers::list(db, tenant, 1000, 0).await.expect("list").1,
        before
    );

    // The domain write fails after the event was written: the event must not exist either.
    let rows_before = rows(db, tenant).await.len();
    let mut tx = db.begin().await.expect("tx");
    let event = NewEvent {
        event_type: outbox::events::CUSTOMER_UPDATED,
        entity_type: "Customer",
        entity_id: Uuid::now_v7(),
        version: 2,
        payload: json!({}),
        correlation_id: None,
        origin: None,
    };
    outbox::enqueue(&mut tx, tenant, &event, time::now())
        .await
        .expect("enqueue");
    let sku_clash = erp_bridge::server::store::products::create(
        &mut tx,
        tenant,
        "SKU-1",
        "A",
        1,
        "USD",
        time::now(),
    )
    .await;
    assert!(sku_clash.is_ok());
    let again = erp_bridge::server::store::products::create(
        &mut tx,
        tenant,
        "SKU-1",
        "B",
        1,
        "USD",
        time::now(),
    )
    .await;
    assert!(again.is_err(), "duplicate SKU");
    drop(tx);
    assert_eq!(rows(db, tenant).await.len(), rows_before);
}

async fn events_without_a_connected_provider_are_recorded_as_skipped(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    let created = create_customer(&app, "Nobody Connected").await;
    let row = rows(&app.state.db, tenant)
        .await
        .into_iter()
        .find(|r| r.entity_id == created["id"])
        .expect("row");
    assert_eq!(row.target_system, None);
    assert_eq!(row.status, "Completed");
    assert_eq!(
        row.last_error.as_deref(),
        Some("Skipped: no ERP is connected")
    );
    assert!(row.processed_at.is_some());
}

async fn settings_decide_what_is_sent(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    connect(db, tenant, Provider::NetSuite).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let off = json!({ "auto_sync_enabled": true, "sync_customers": false, "sync_invoices": true, "sync_payments": true });
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/netsuite/settings",
            off,
        )
        .await;
    assert_eq!(status, 204);
    let created = create_customer(&app, "Toggle Co").await;
    let mine: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.entity_id == created["id"])
        .collect();
    let by = |p: &str| {
        mine.iter()
            .find(|r| r.target_system.as_deref() == Some(p))
            .expect("row per provider")
    };
    assert_eq!(by("QuickBooks").status, "Pending");
    assert_eq!(by("NetSuite").status, "Completed");
    assert_eq!(
        by("NetSuite").last_error.as_deref(),
        Some("Skipped: customer sync is off")
    );

    let auto_off = json!({ "auto_sync_enabled": false, "sync_customers": true, "sync_invoices": true, "sync_payments": true });
    app.send_json(
        &admin,
        Method::PUT,
        "/api/integrations/connections/quickbooks/settings",
        auto_off,
    )
    .await;
    let later = create_customer(&app, "Auto Off Co").await;
    let qbo = rows(db, tenant)
        .await
        .into_iter()
        .find(|r| r.entity_id == later["id"] && r.target_system.as_deref() == Some("QuickBooks"));
    assert_eq!(
        qbo.and_then(|r| r.last_error),
        Some("Skipped: auto-sync is off".to_string())
    );
}

async fn delivered_events_complete_with_a_log_and_no_stored_payload(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let created = create_customer(&app, "Deliver Me").await;
    let adapter = Arc::new(ScriptedAdapter::ok());
    let stats = pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!(stats.completed, 1);
    let row = rows(db, tenant)
        .await
        .into_iter()
        .find(|r| r.entity_id == created["id"])
        .expect("row");
    assert_eq!(row.status, "Completed");
    assert!(row.processed_at.is_some());
    assert_eq!(adapter.delivered(), vec![row.id]);
    let logs = sync_logs::for_outbox(db, tenant, row.id)
        .await
        .expect("logs");
    assert_eq!(logs.len(), 1);
    assert_eq!(
        (logs[0].status.as_str(), logs[0].direction.as_str()),
        ("Completed", "ToExternal")
    );
    assert_eq!(logs[0].external_id, Some(format!("ext-{}", row.entity_id)));
    assert!(
        logs[0].request_payload.is_none() && logs[0].response_payload.is_none(),
        "success without diagnostics stores no payload"
    );
    assert_eq!(
        pass(db, adapter.clone(), fast_worker()).await.completed,
        0,
        "nothing twice"
    );
}

async fn diagnostic_mode_stores_scrubbed_payloads(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let admin = app.as_role(Some(Role::Admin)).await;
    let diag = json!({ "auto_sync_enabled": true, "sync_customers": true, "sync_invoices": true, "sync_payments": true, "diagnostic_minutes": 30 });
    assert_eq!(
        app.send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/quickbooks/settings",
            diag
        )
        .await
        .0,
        204
    );
    create_customer(&app, "Diag Co").await;
    pass(db, Arc::new(ScriptedAdapter::ok()), fast_worker()).await;
    let row = rows(db, tenant).await.pop().expect("row");
    let log = sync_logs::for_outbox(db, tenant, row.id)
        .await
        .expect("logs")
        .pop()
        .expect("log");
    let request = log.request_payload.expect("stored in diagnostic mode");
    assert!(request.contains("Diag Co"));
    assert!(
        !request.contains("sekret-token"),
        "secrets scrubbed: {request}"
    );
    assert!(log.response_payload.is_some());
}

async fn retryable_failures_back_off_then_abandon(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    create_customer(&app, "Flaky").await;
    let adapter = Arc::new(ScriptedAdapter::with(vec![Step::Retryable(None); 10]));
    let cfg = WorkerConfig {
        backoff_unit: Duration::from_secs(1),
        breaker: lenient_breaker(),
        ..WorkerConfig::default()
    };
    let started = time::now();
    pass(db, adapter.clone(), cfg).await;
    let row = rows(db, tenant).await.pop().expect("row");
    assert_eq!((row.status.as_str(), row.retry_count), ("Failed", 1));
    let wait = row.scheduled_for.expect("scheduled") - started;
    assert!(
        wait >= TimeDelta::milliseconds(1600) && wait <= TimeDelta::milliseconds(2600),
        "2^1 units ± 20%: {wait}"
    );

    // Travel to the scheduled time rather than sleeping through it.
    let now = time::now();
    erp_bridge::on_conn!(db.write(), p => sqlx::query("UPDATE integration_outbox SET scheduled_for = $1 WHERE id = $2")
        .bind(now).bind(row.id).execute(p).await.map(|_| ())).expect("time travel");
    let fast = WorkerConfig {
        breaker: lenient_breaker(),
        ..fast_worker()
    };
    for _ in 0..20 {
        pass(db, adapter.clone(), fast.clone()).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let row = rows(db, tenant).await.pop().expect("row");
    assert_eq!((row.status.as_str(), row.retry_count), ("Abandoned", 5));
    assert_eq!(row.scheduled_for, None);
    let logs = sync_logs::for_outbox(db, tenant, row.id)
        .await
        .expect("logs");
    assert_eq!(logs.len(), 5, "one log per attempt");
    assert!(logs.iter().all(|l| l.status == "Failed"
        && l.request_payload
            .as_deref()
            .is_some_and(|p| !p.contains("sekret"))));
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, order_page) = app.get_json(&admin, "/api/v1/customers").await;
    let badge = &order_page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["name"] == "Flaky")
        .expect("customer")["sync"][0];
    assert_eq!(badge["state"], "Abandoned");
    assert_eq!(badge["outbox_id"], row.id.to_string());
}

fn lenient_breaker() -> BreakerConfig {
    BreakerConfig {
        threshold: 1000,
        ..BreakerConfig::default()
    }
}

async fn retry_after_from_the_erp_wins_when_longer(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    create_customer(&app, "Throttled").await;
    let adapter = Arc::new(ScriptedAdapter::with([Step::Retryable(Some(
        Duration::from_secs(600),
    ))]));
    let started = time::now();
    pass(db, adapter, fast_worker()).await;
    let row = rows(db, tenant).await.pop().expect("row");
    assert!(row.scheduled_for.expect("scheduled") - started >= TimeDelta::seconds(600));
}

async fn auth_failures_park_the_connection_without_using_retries(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    create_customer(&app, "Auth A").await;
    create_customer(&app, "Auth B").await;
    let adapter = Arc::new(ScriptedAdapter::with([Step::Auth]));
    let stats = pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!((stats.completed, stats.failed), (0, 0));
    let view = connections::worker_view(db, tenant, "QuickBooks")
        .await
        .expect("q")
        .expect("row");
    assert_eq!(view.status, "ReconnectRequired");
    let parked: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.target_system.is_some())
        .collect();
    assert!(
        parked
            .iter()
            .all(|r| r.status == "Pending" && r.retry_count == 0),
        "{parked:?}"
    );
    assert_eq!(
        pass(db, adapter.clone(), fast_worker()).await.completed,
        0,
        "parked"
    );
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, conns) = app.get_json(&admin, "/api/integrations/connections").await;
    assert_eq!(conns[0]["status"], "ReconnectRequired");
    connect(db, tenant, Provider::QuickBooks).await; // an Admin reconnects
    assert_eq!(pass(db, adapter, fast_worker()).await.completed, 2);
}

async fn permanent_failures_fail_fast_and_wait_for_a_manual_retry(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    create_customer(&app, "Invalid Data").await;
    let adapter = Arc::new(ScriptedAdapter::with([Step::Permanent]));
    pass(db, adapter.clone(), fast_worker()).await;
    let row = rows(db, tenant).await.pop().expect("row");
    assert_eq!(
        (row.status.as_str(), row.retry_count, row.scheduled_for),
        ("Failed", 0, None)
    );
    assert!(row
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("6000")));
    assert_eq!(pass(db, adapter.clone(), fast_worker()).await.completed, 0);

    let manager = app.as_role(Some(Role::SalesManager)).await;
    let log = sync_logs::for_outbox(db, tenant, row.id)
        .await
        .expect("logs")
        .pop()
        .expect("log");
    let (status, _) = app
        .send_json(
            &manager,
            Method::POST,
            &format!("/api/integrations/outbox/{}/retry", row.id),
            json!(null),
        )
        .await;
    assert_eq!(status, 403, "outbox retry is IntegrationsManage");
    let (status, body) = app
        .send_json(
            &manager,
            Method::POST,
            &format!("/api/integrations/logs/{}/retry", log.id),
            json!(null),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "Pending");
    assert_eq!(pass(db, adapter.clone(), fast_worker()).await.completed, 1);
    let (status, _) = app
        .send_json(
            &manager,
            Method::POST,
            &format!("/api/integrations/logs/{}/retry", log.id),
            json!(null),
        )
        .await;
    assert_eq!(status, 409, "a completed delivery is not re-sent");
}

async fn the_breaker_pauses_a_failing_provider_then_probes(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let admin = app.as_role(Some(Role::Admin)).await; // signed in before the clock starts
    for name in ["B1", "B2", "B3", "B4"] {
        create_customer(&app, name).await;
    }
    let breaker = BreakerConfig {
        threshold: 2,
        base_cooldown: TimeDelta::milliseconds(300),
        max_cooldown: TimeDelta::seconds(5),
    };
    let cfg = WorkerConfig {
        breaker,
        ..fast_worker()
    };
    let adapter = Arc::new(ScriptedAdapter::with(vec![Step::Retryable(None); 4]));
    let first = pass(db, adapter.clone(), cfg.clone()).await;
    assert_eq!(
        (first.failed, first.completed, first.released),
        (2, 0, 2),
        "a pass stops once every attempt so far failed on the ERP's side; the rest cost nothing"
    );
    let health = erp_bridge::server::store::health::get(db, tenant, "QuickBooks")
        .await
        .expect("health");
    assert_eq!(
        (health.state.as_str(), health.consecutive_failures),
        ("Closed", 1),
        "one failed pass is not yet a run"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = pass(db, adapter.clone(), cfg.clone()).await;
    assert_eq!((second.failed, second.completed), (2, 0));
    let opened_at = time::now();
    let health = erp_bridge::server::store::health::get(db, tenant, "QuickBooks")
        .await
        .expect("health");
    assert_eq!(health.state, "Open");
    let pause = health.open_until.expect("paused") - opened_at;
    assert!(
        pause <= TimeDelta::milliseconds(300),
        "one base cool-down, not more: {pause}"
    );
    let (_, cards) = app.get_json(&admin, "/api/integrations/connections").await;
    assert!(
        cards[0]["paused_until"].is_string(),
        "the dashboard shows the pause: {cards}"
    );
    assert!(
        cards[0]["paused_reason"]
            .as_str()
            .is_some_and(|r| r.contains("503")),
        "and why: {cards}"
    );
    assert_eq!(
        (cards[0]["failed"].as_i64(), cards[0]["pending"].as_i64()),
        (Some(4), Some(0))
    );
    let metrics = crate::helpers::client()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("outbox_breakers_open{provider=\"QuickBooks\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        pass(db, adapter.clone(), cfg.clone()).await.claimed,
        0,
        "paused"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let probe = pass(db, adapter.clone(), cfg.clone()).await;
    assert_eq!((probe.claimed, probe.completed), (1, 1), "one probe");
    let health = erp_bridge::server::store::health::get(db, tenant, "QuickBooks")
        .await
        .expect("health");
    assert_eq!(
        (health.state.as_str(), health.consecutive_failures),
        ("Closed", 0)
    );
    for _ in 0..5 {
        pass(db, adapter.clone(), cfg.clone()).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rows(db, tenant)
        .await
        .iter()
        .filter(|r| r.target_system.is_some())
        .all(|r| r.status == "Completed"));
}

async fn erp_originated_changes_are_not_echoed_back(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    connect(db, tenant, Provider::NetSuite).await;
    let mut tx = db.begin().await.expect("tx");
    let event = NewEvent {
        event_type: outbox::events::PAYMENT_ADDED,
        entity_type: "Payment",
        entity_id: Uuid::now_v7(),
        version: 1,
        payload: json!({}),
        correlation_id: None,
        origin: Some(Provider::QuickBooks),
    };
    let written = outbox::enqueue(&mut tx, tenant, &event, time::now())
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let targets = written;
    assert_eq!(targets, vec![Some("NetSuite".to_string())]);
}

async fn retention_prunes_old_rows_and_scrubs_old_payloads(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    create_customer(&app, "Old One").await;
    worker(
        db,
        Arc::new(ScriptedAdapter::with([Step::Retryable(None)])),
        fast_worker(),
    )
    .run_once()
    .await
    .expect("pass");
    tokio::time::sleep(Duration::from_millis(10)).await;
    pass(db, Arc::new(ScriptedAdapter::ok()), fast_worker()).await;
    let row = rows(db, tenant).await.pop().expect("row");
    assert_eq!(row.status, "Completed");
    let cfg = maintenance::RetentionConfig {
        completed_outbox: TimeDelta::milliseconds(1),
        payloads: TimeDelta::milliseconds(1),
        logs: TimeDelta::days(1),
        batch: 1,
        ..maintenance::RetentionConfig::default()
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let report = maintenance::run(db, &cfg).await.expect("retention");
    assert!(
        report.outbox_deleted >= 1 && report.payloads_scrubbed == 1,
        "{report:?}"
    );
    assert!(outbox_store::get(db, tenant, row.id)
        .await
        .expect("get")
        .is_none());
    let logs = sync_logs::for_outbox(db, tenant, row.id)
        .await
        .expect("logs");
    assert_eq!(logs.len(), 2, "logs outlive the outbox row");
    assert!(logs
        .iter()
        .all(|l| l.request_payload.is_none() && l.response_payload.is_none()));
}

async fn later_events_of_an_entity_wait_for_earlier_ones(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let created = create_customer(&app, "In Order Ltd").await;
    let id = created["id"].as_str().expect("id");
    let adapter = Arc::new(ScriptedAdapter::with([Step::Retryable(None)]));
    let slow_retry = WorkerConfig {
        backoff_unit: Duration::from_secs(60),
        ..fast_worker()
    };
    let first = pass(db, adapter.clone(), slow_retry.clone()).await;
    assert_eq!((first.failed, first.completed), (1, 0));
    // A change while the create waits for its retry: the update carries the newer state and
    // takes the create's place (DESIGN § 14), so one delivery sends what the record is now.
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/customers/{id}"),
            json!({ "name": "In Order Ltd." }),
        )
        .await;
    assert_eq!(status, 200);
    let mine: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.entity_id == id)
        .collect();
    assert_eq!(
        mine.iter()
            .map(|r| (r.event_type.as_str(), r.status.as_str(), r.head))
            .collect::<Vec<_>>(),
        vec![
            ("CustomerCreated", "Superseded", false),
            ("CustomerUpdated", "Pending", true)
        ]
    );
    assert_eq!(mine[0].superseded_by, Some(mine[1].id), "linked");
    assert!(mine[0].seq < mine[1].seq);
    pass(db, adapter.clone(), slow_retry.clone()).await;
    assert_eq!(adapter.delivered(), vec![mine[1].id]);
    let (_, body) = app
        .get_json(&admin, &format!("/api/v1/customers/{id}"))
        .await;
    assert_eq!(body["sync"][0]["state"], "Synced", "{body}");
}

both_backends!(the_dashboard_shows_the_last_error_until_a_sync_succeeds);

/// The QuickBooks card of the integrations dashboard.
async fn quickbooks_card(app: &TestApp, admin: &reqwest::Client) -> Value {
    let (_, cards) = app.get_json(admin, "/api/integrations/connections").await;
    cards
        .as_array()
        .expect("cards")
        .iter()
        .find(|c| c["provider"] == "QuickBooks")
        .expect("card")
        .clone()
}

async fn the_dashboard_shows_the_last_error_until_a_sync_succeeds(backend: Backend) {
    let (app, _) = connected_app(backend).await;
    let db = &app.state.db;
    let admin = app.as_role(Some(Role::Admin)).await;
    create_customer(&app, "Rejected Ltd").await;
    pass(
        db,
        Arc::new(ScriptedAdapter::with([Step::Permanent])),
        fast_worker(),
    )
    .await;
    let failed = quickbooks_card(&app, &admin).await;
    assert!(
        failed["last_sync_error"]
            .as_str()
            .is_some_and(|e| e.contains("6000")),
        "{failed}"
    );
    create_customer(&app, "Accepted Ltd").await;
    pass(db, Arc::new(ScriptedAdapter::ok()), fast_worker()).await;
    let synced = quickbooks_card(&app, &admin).await;
    assert!(synced["last_sync_error"].is_null(), "{synced}");
    assert!(synced["last_sync_at"].is_string(), "{synced}");
}
