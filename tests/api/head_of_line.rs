//! The outbox engine's second wave (DESIGN § 14): per-record order as an explicit head of line,
//! supersession and re-sends, dismissal, a breaker whose unit is the pass, throttling that costs
//! nothing, deadlines per event, and a disconnect that wins over in-flight work. Each runs on
//! SQLite and PostgreSQL.

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::outbox::{connect, connected_app, create_customer, fast_worker, pass, rows, worker};
use crate::scripted::{ScriptedAdapter, Step};
use chrono::TimeDelta;
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use erp_bridge::server::outbox::breaker::BreakerConfig;
use erp_bridge::server::outbox::worker::{PassStats, WorkerConfig};
use erp_bridge::server::outbox::{self, NewEvent};
use erp_bridge::server::store::{connections, health, outbox as outbox_store, tenants, tokens, Db};
use erp_bridge::server::time;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

both_backends!(
    a_failed_pass_pauses_for_one_cool_down,
    throttling_never_costs_an_attempt_nor_opens_the_breaker,
    a_customer_syncs_after_its_rejected_first_version_is_fixed,
    a_retry_sends_the_current_state_under_a_new_key,
    a_dismissed_delivery_frees_its_record,
    a_payment_waits_for_its_orders_invoice_uncharged,
    stuck_tenants_do_not_delay_a_healthy_one,
    a_deadline_charges_only_the_event_that_ran_past_it,
    a_disconnect_during_delivery_wins,
);

async fn customer(app: &TestApp, name: &str) -> String {
    create_customer(app, name).await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn rename(app: &TestApp, id: &str, name: &str) {
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, body) = app
        .send_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/customers/{id}"),
            json!({ "name": name }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// A placed order of the demo tenant (two lines).
async fn placed_order(app: &TestApp, admin: &reqwest::Client) -> Value {
    let (_, products) = app.get_json(admin, "/api/v1/products").await;
    let (_, customers) = app.get_json(admin, "/api/v1/customers").await;
    let p = products["items"].as_array().expect("products");
    let body = json!({ "customer_id": customers["items"][0]["id"], "shipping_amount": 0, "items": [
        { "product_id": p[0]["id"], "quantity": 1 }, { "product_id": p[1]["id"], "quantity": 2 } ] });
    let (status, order) = app
        .send_json(admin, Method::POST, "/api/v1/orders", body)
        .await;
    assert_eq!(status, 201, "{order}");
    order
}

async fn mine(db: &Db, tenant: Uuid, entity_id: &str) -> Vec<outbox_store::OutboxRow> {
    rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.entity_id == entity_id && r.target_system.is_some())
        .collect()
}

async fn a_failed_pass_pauses_for_one_cool_down(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    for n in 0..12 {
        customer(&app, &format!("Down {n}")).await;
    }
    // Twelve deliveries of one pass meet HTTP 500 (one hand-over, as a bulk connector does).
    let cfg = WorkerConfig {
        breaker: BreakerConfig {
            threshold: 1,
            base_cooldown: TimeDelta::seconds(30),
            max_cooldown: TimeDelta::minutes(30),
        },
        ..fast_worker()
    };
    let adapter = Arc::new(ScriptedAdapter::with(vec![Step::Retryable(None); 12]).chunked(12));
    let stats = pass(db, adapter, cfg).await;
    assert_eq!(stats.failed, 12);
    let h = health::get(db, tenant, "QuickBooks").await.expect("health");
    assert_eq!((h.state.as_str(), h.open_count), ("Open", 1));
    let pause = h.open_until.expect("paused") - time::now();
    assert!(
        pause <= TimeDelta::seconds(30) && pause > TimeDelta::seconds(25),
        "one failed pass pauses for one cool-down, not twelve: {pause}"
    );
}

async fn throttling_never_costs_an_attempt_nor_opens_the_breaker(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    for n in 0..3 {
        customer(&app, &format!("Busy {n}")).await;
    }
    let cfg = WorkerConfig {
        breaker: BreakerConfig {
            threshold: 1,
            ..BreakerConfig::default()
        },
        ..fast_worker()
    };
    let storm = vec![Step::Throttled(Duration::from_millis(1)); 30];
    let adapter = Arc::new(ScriptedAdapter::with(storm));
    for _ in 0..10 {
        let stats = pass(db, adapter.clone(), cfg.clone()).await;
        assert_eq!((stats.failed, stats.abandoned), (0, 0), "{stats:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let h = health::get(db, tenant, "QuickBooks").await.expect("health");
    assert_eq!(
        (h.state.as_str(), h.consecutive_failures),
        ("Closed", 0),
        "a 429 storm is no outage"
    );
    assert!(rows(db, tenant)
        .await
        .iter()
        .filter(|r| r.target_system.is_some())
        .all(|r| r.retry_count == 0 && r.status == "Pending"));
    // Once the ERP stops throttling, everything goes out.
    for _ in 0..30 {
        pass(db, adapter.clone(), cfg.clone()).await;
        if adapter.delivered().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(adapter.delivered().len(), 3);
}

async fn a_customer_syncs_after_its_rejected_first_version_is_fixed(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let id = customer(&app, "Bad\u{7}Name").await;
    let adapter = Arc::new(ScriptedAdapter::with([Step::Permanent]));
    let first = pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!(first.failed, 1, "the ERP rejects the first version");
    rename(&app, &id, "Good Name").await;
    let rows = mine(db, tenant, &id).await;
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        vec!["Superseded", "Pending"],
        "the fix takes the rejected version's place"
    );
    assert_eq!(rows[0].superseded_by, Some(rows[1].id));
    pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!(adapter.delivered(), vec![rows[1].id]);
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, body) = app
        .get_json(&admin, &format!("/api/v1/customers/{id}"))
        .await;
    assert_eq!(body["sync"][0]["state"], "Synced", "{body}");
}

async fn a_retry_sends_the_current_state_under_a_new_key(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let id = customer(&app, "Retry Me").await;
    let adapter = Arc::new(ScriptedAdapter::with([Step::Permanent]));
    pass(db, adapter.clone(), fast_worker()).await;
    let failed = mine(db, tenant, &id).await.remove(0);
    assert_eq!(failed.status, "Failed");
    // The record changes while sync is switched off for customers, so no event replaces it.
    let admin = app.as_role(Some(Role::Admin)).await;
    let settings = json!({ "auto_sync_enabled": true, "sync_customers": false, "sync_invoices": true, "sync_payments": true });
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/quickbooks/settings",
            settings,
        )
        .await;
    assert_eq!(status, 204);
    rename(&app, &id, "Retry Me Now").await;
    let (status, resent) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/outbox/{}/retry", failed.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    assert_ne!(resent["id"], json!(failed.id), "a new row");
    let rows = mine(db, tenant, &id).await;
    let old = rows.iter().find(|r| r.id == failed.id).expect("old row");
    let new = rows
        .iter()
        .find(|r| resent["id"] == json!(r.id))
        .expect("new row");
    assert_eq!(old.status, "Superseded");
    assert_eq!(old.superseded_by, Some(new.id));
    assert_eq!(
        (new.status.as_str(), new.retry_count, new.seq),
        ("Pending", 0, old.seq)
    );
    assert_ne!(new.idempotency_key, old.idempotency_key, "a new operation");
    let payload: Value = serde_json::from_str(&new.payload).expect("json");
    assert_eq!(
        payload["customer"]["name"], "Retry Me Now",
        "the record as it is now"
    );
    pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!(adapter.delivered(), vec![new.id]);
    // Retrying a row that is no longer failed is refused.
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/outbox/{}/retry", failed.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
}

async fn a_dismissed_delivery_frees_its_record(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let admin = app.as_role(Some(Role::Admin)).await;
    let order = placed_order(&app, &admin).await;
    let order_id = order["id"].as_str().expect("id").to_string();
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/v1/orders/{order_id}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let adapter = Arc::new(ScriptedAdapter::with([Step::Permanent]));
    // OrderCreated goes, then OrderPaid is rejected and holds the order's line.
    for _ in 0..3 {
        pass(db, adapter.clone(), fast_worker()).await;
    }
    let group: Vec<_> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.record_group == format!("Order:{order_id}") && r.target_system.is_some())
        .collect();
    let paid = group
        .iter()
        .find(|r| r.event_type == "OrderPaid")
        .expect("paid");
    assert_eq!((paid.status.as_str(), paid.head), ("Failed", true));
    let payment = group
        .iter()
        .find(|r| r.entity_type == "Payment")
        .expect("payment");
    assert_eq!(
        (payment.status.as_str(), payment.head),
        ("Pending", false),
        "waits behind it"
    );
    let manager = app.as_role(Some(Role::SalesManager)).await;
    let (status, _) = app
        .send_json(
            &manager,
            Method::POST,
            &format!("/api/integrations/outbox/{}/dismiss", paid.id),
            json!({ "reason": "invoiced by hand" }),
        )
        .await;
    assert_eq!(status, 403, "Admins only");
    let (status, body) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/outbox/{}/dismiss", paid.id),
            json!({ "reason": "invoiced by hand" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "Dismissed");
    let audit: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'outbox.dismissed' AND after_json LIKE '%invoiced by hand%'")
        .fetch_one(p).await).expect("audit");
    assert_eq!(audit, 1, "who and why are audited");
    pass(db, adapter.clone(), fast_worker()).await;
    assert!(
        adapter.delivered().contains(&payment.id),
        "the record's later events go ahead"
    );
    let (_, body) = app
        .get_json(&admin, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_ne!(
        body["sync"][0]["state"], "Synced",
        "a dismissed invoice is not synced: {body}"
    );
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/outbox/{}/dismiss", paid.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "already dismissed");
}

async fn a_payment_waits_for_its_orders_invoice_uncharged(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    let admin = app.as_role(Some(Role::Admin)).await;
    let order = placed_order(&app, &admin).await;
    let order_id = order["id"].as_str().expect("id").to_string();
    let adapter = Arc::new(ScriptedAdapter::ok());
    pass(db, adapter.clone(), fast_worker()).await; // OrderCreated
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/v1/orders/{order_id}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let adapter = Arc::new(ScriptedAdapter::with([Step::Retryable(None)]));
    let slow = WorkerConfig {
        backoff_unit: Duration::from_millis(200),
        ..fast_worker()
    };
    let first = pass(db, adapter.clone(), slow.clone()).await;
    assert_eq!(
        (first.claimed, first.failed),
        (1, 1),
        "only the invoice is claimed"
    );
    let group = |mut rows: Vec<outbox_store::OutboxRow>| -> Vec<(String, String, i64)> {
        rows.sort_by_key(|r| r.seq);
        rows.into_iter()
            .filter(|r| {
                r.record_group == format!("Order:{order_id}")
                    && r.target_system.is_some()
                    && r.event_type != "OrderCreated"
            })
            .map(|r| (r.event_type, r.status, r.retry_count))
            .collect()
    };
    assert_eq!(
        group(rows(db, tenant).await),
        vec![
            ("OrderPaid".into(), "Failed".into(), 1),
            ("PaymentAdded".into(), "Pending".into(), 0)
        ],
        "the payment waits, uncharged"
    );
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        pass(db, adapter.clone(), slow.clone()).await;
        if adapter.delivered().len() == 2 {
            break;
        }
    }
    let delivered = adapter.delivered();
    let all = rows(db, tenant).await;
    let kind = |id: &Uuid| {
        all.iter()
            .find(|r| r.id == *id)
            .map(|r| r.event_type.clone())
    };
    assert_eq!(
        delivered.iter().map(kind).collect::<Vec<_>>(),
        vec![Some("OrderPaid".into()), Some("PaymentAdded".into())],
        "invoice first, then its payment"
    );
}

async fn stuck_tenants_do_not_delay_a_healthy_one(backend: Backend) {
    let (app, healthy) = connected_app(backend).await;
    let db = &app.state.db;
    // 500 tenants whose one record is stuck: a rejected head and a change queued behind it in
    // the same record group (a payment behind its order's rejected invoice).
    for n in 0..500 {
        let tenant = tenants::Tenant {
            id: Uuid::now_v7(),
            name: format!("Stuck {n}"),
            slug: format!("stuck-{n}"),
            created_at: time::now(),
        };
        let mut tx = db.begin().await.expect("tx");
        tenants::insert(&mut tx, &tenant).await.expect("tenant");
        tx.commit().await.expect("commit");
        connect(db, tenant.id, Provider::QuickBooks).await;
        let order = Uuid::now_v7();
        let mut tx = db.begin().await.expect("tx");
        for (event_type, entity_type, entity_id) in [
            ("OrderPaid", "Order", order),
            ("PaymentAdded", "Payment", Uuid::now_v7()),
        ] {
            let event = NewEvent {
                event_type: if event_type == "OrderPaid" {
                    outbox::events::ORDER_PAID
                } else {
                    outbox::events::PAYMENT_ADDED
                },
                entity_type: if entity_type == "Order" {
                    "Order"
                } else {
                    "Payment"
                },
                entity_id,
                version: 1,
                payload: json!({}),
                correlation_id: Some(order),
                origin: None,
            };
            outbox::enqueue(&mut tx, tenant.id, &event, time::now())
                .await
                .expect("enqueue");
        }
        erp_bridge::on_tx!(&mut tx, c => sqlx::query(
            "UPDATE integration_outbox SET status = 'Failed', scheduled_for = NULL, retry_count = 1 \
             WHERE tenant_id = $1 AND event_type = 'OrderPaid'")
            .bind(tenant.id).execute(c).await.map(|_| ())).expect("stuck");
        tx.commit().await.expect("commit");
    }
    let id = customer(&app, "Healthy Ltd").await;
    let due = outbox_store::due_pairs(db, db.now().await.expect("now"), 1000)
        .await
        .expect("due");
    assert_eq!(
        due,
        vec![(healthy, "QuickBooks".to_string())],
        "only the pair with claimable work"
    );
    let adapter = Arc::new(ScriptedAdapter::ok());
    let stats = pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!((stats.claimed, stats.completed), (1, 1));
    assert_eq!(
        adapter.delivered(),
        vec![mine(db, healthy, &id).await[0].id]
    );
    // An idle pass writes nothing: the stuck rows are exactly as they were.
    let before: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM worker_leases").fetch_one(p).await)
    .expect("leases");
    let idle = pass(db, adapter.clone(), fast_worker()).await;
    assert_eq!(idle, PassStats::default());
    let after: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM worker_leases").fetch_one(p).await)
    .expect("leases");
    assert_eq!(before, after, "no lease taken for stuck tenants");
}

async fn a_deadline_charges_only_the_event_that_ran_past_it(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    for n in 0..3 {
        customer(&app, &format!("Slow {n}")).await;
    }
    let cfg = WorkerConfig {
        event_deadline: Duration::from_millis(300),
        backoff_unit: Duration::from_secs(60),
        ..fast_worker()
    };
    // One hand-over of three: the second never answers.
    let adapter = Arc::new(ScriptedAdapter::with([Step::Ok, Step::Hang, Step::Ok]).chunked(3));
    let stats = pass(db, adapter.clone(), cfg).await;
    assert_eq!((stats.completed, stats.failed), (2, 1), "{stats:?}");
    let mut charged: Vec<(String, i64)> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.target_system.is_some())
        .map(|r| (r.status, r.retry_count))
        .collect();
    charged.sort();
    assert_eq!(
        charged,
        vec![
            ("Completed".into(), 0),
            ("Completed".into(), 0),
            ("Failed".into(), 1)
        ]
    );
}

async fn a_disconnect_during_delivery_wins(backend: Backend) {
    let (app, tenant) = connected_app(backend).await;
    let db = &app.state.db;
    customer(&app, "Late Refusal").await;
    // The Admin disconnects while the delivery is in flight; the ERP then refuses our token.
    let slow = Arc::new(ScriptedAdapter::with([Step::Auth]).delayed(Duration::from_millis(300)));
    let w = worker(db, slow.clone(), fast_worker());
    let delivery = tokio::spawn(async move { w.run_once().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokens::disconnect(db, tenant, "QuickBooks", time::now())
        .await
        .expect("disconnect"));
    delivery.await.expect("join").expect("pass");
    let conn = connections::worker_view(db, tenant, "QuickBooks")
        .await
        .expect("view")
        .expect("row");
    assert_eq!(conn.status, "NotConnected", "the disconnect wins");
    // Tokens refreshed by a call that was in flight are not written back onto it either.
    let sealed = tokens::SealedTokens {
        access_token_encrypted: Some("sealed-access".into()),
        refresh_token_encrypted: Some("sealed-refresh".into()),
        encryption_key_id: Some("k1".into()),
        access_token_expires_at: Some(time::now()),
        refresh_token_expires_at: Some(time::now()),
    };
    let stored = tokens::store_refreshed(db, tenant, "QuickBooks", &sealed, "w", time::now())
        .await
        .expect("store");
    assert!(!stored);
    let left = tokens::load(db, tenant, "QuickBooks")
        .await
        .expect("load")
        .expect("row");
    assert!(left.access_token_encrypted.is_none() && left.refresh_token_encrypted.is_none());
}
