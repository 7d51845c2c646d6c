//! The integrations console's settings and the staff screens' server functions, over HTTP as
//! the browser calls them: with JavaScript (JSON accepted) and without (a plain form post that
//! is answered with a redirect).

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::outbox::{connect, demo_tenant, rows};
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    settings_are_read_and_changed_in_part,
    turning_invoices_off_skips_paid_orders,
    the_order_form_places_an_order_and_opens_it,
    the_payment_form_reads_amounts_in_the_order_s_currency,
    sync_now_queues_a_record_skipped_before_the_connection,
    a_sync_run_counts_deliveries_not_queued_rows,
    a_retried_delivery_s_badge_follows_the_re_send,
    console_pages_answer_each_role_with_the_right_status,
    the_inbox_viewer_lists_by_status_and_retries_failed_events,
    pages_render_while_other_apps_are_built_in_the_process,
);

/// Posts a server-function form like a browser without JavaScript.
async fn form_post(
    app: &TestApp,
    c: &reqwest::Client,
    endpoint: &str,
    body: &str,
    from: &str,
) -> reqwest::Response {
    c.post(app.url(&format!("/rpc/{endpoint}")))
        .header("accept", "text/html")
        .header("referer", app.url(from))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .expect("request")
}

/// Calls a server function as the hydrated page does: (status, JSON body).
async fn rpc(app: &TestApp, c: &reqwest::Client, endpoint: &str, body: &str) -> (u16, Value) {
    crate::helpers::read_json(
        c.post(app.url(&format!("/rpc/{endpoint}")))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string()),
    )
    .await
}

async fn settings_are_read_and_changed_in_part(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let manager = app.as_role(Some(Role::SalesManager)).await;
    let path = "/api/integrations/connections/quickbooks";

    let (status, detail) = app.get_json(&manager, path).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["connection"]["status"], "Connected");
    assert_eq!(
        detail["settings"],
        json!({ "auto_sync_enabled": true, "sync_customers": true, "sync_invoices": true,
                "sync_payments": true, "pull_frequency_minutes": 15, "diagnostic_until": null,
                "deposit_account_id": null })
    );

    // A partial change leaves the other fields alone.
    let settings = format!("{path}/settings");
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &settings,
            json!({ "pull_frequency_minutes": 30 }),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &settings,
            json!({ "diagnostic_minutes": 60 }),
        )
        .await;
    assert_eq!(status, 204);
    let (_, detail) = app.get_json(&manager, path).await;
    assert_eq!(detail["settings"]["pull_frequency_minutes"], 30);
    assert_eq!(detail["settings"]["sync_customers"], true);
    assert!(detail["settings"]["diagnostic_until"].is_string());
    let (_, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &settings,
            json!({ "diagnostic_minutes": 0 }),
        )
        .await;
    let (_, detail) = app.get_json(&manager, path).await;
    assert_eq!(detail["settings"]["diagnostic_until"], Value::Null);
    assert_eq!(detail["settings"]["pull_frequency_minutes"], 30);

    // Out of range: refused with the field named, nothing changed.
    for body in [
        json!({ "pull_frequency_minutes": 4 }),
        json!({ "pull_frequency_minutes": 1441 }),
        json!({ "diagnostic_minutes": -1 }),
    ] {
        let (status, err) = app
            .send_json(&admin, Method::PUT, &settings, body.clone())
            .await;
        assert_eq!(status, 400, "{body}: {err}");
    }
    let (_, detail) = app.get_json(&manager, path).await;
    assert_eq!(detail["settings"]["pull_frequency_minutes"], 30);

    // Sales managers read; only Admins change. A never-connected ERP has no settings.
    let (status, _) = app
        .send_json(
            &manager,
            Method::PUT,
            &settings,
            json!({ "sync_customers": false }),
        )
        .await;
    assert_eq!(status, 403);
    let (status, ns) = app
        .get_json(&manager, "/api/integrations/connections/netsuite")
        .await;
    assert_eq!(status, 200);
    assert_eq!(ns["settings"], Value::Null);
    assert_eq!(ns["connection"]["status"], "NotConnected");
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/netsuite/settings",
            json!({ "sync_customers": false }),
        )
        .await;
    assert_eq!(status, 404);

    // Every change is audited with what it was before.
    let audits: Vec<(String, String)> = erp_bridge::on_conn!(app.state.db.read(), p =>
        sqlx::query_as("SELECT before_json, after_json FROM audit_events WHERE action = 'settings.changed' ORDER BY created_at")
            .fetch_all(p).await)
    .expect("audit");
    assert_eq!(audits.len(), 3);
    assert!(audits[0].0.contains("\"pull_frequency_minutes\":15"));
    assert!(audits[0].1.contains("\"pull_frequency_minutes\":30"));

    // The settings form: unticked boxes are off, the frequency is kept as typed.
    let (status, saved) = rpc(
        &app,
        &admin,
        "save_settings",
        "provider=quickbooks&auto_sync_enabled=on&sync_customers=on&pull_frequency_minutes=45&diagnostic_minutes=",
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["sync_invoices"], false);
    assert_eq!(saved["sync_payments"], false);
    assert_eq!(saved["pull_frequency_minutes"], 45);
    let (status, err) = rpc(
        &app,
        &admin,
        "save_settings",
        "provider=quickbooks&pull_frequency_minutes=often&diagnostic_minutes=",
    )
    .await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Pull frequency"), "{err}");
}

async fn turning_invoices_off_skips_paid_orders(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/quickbooks/settings",
            json!({ "sync_invoices": false }),
        )
        .await;
    assert_eq!(status, 204);
    let order = new_order(&app, &admin, "USD").await;
    let id = order["id"].as_str().expect("id");
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/v1/orders/{id}/mark-paid"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let paid = rows(&app.state.db, tenant)
        .await
        .into_iter()
        .find(|r| r.entity_id == id && r.event_type == "OrderPaid")
        .expect("an OrderPaid row");
    assert_eq!(paid.status, "Completed");
    assert_eq!(
        paid.last_error.as_deref(),
        Some("Skipped: invoice/order sync is off")
    );
}

/// A customer and a product in `currency`, then an order of two units through the JSON API.
pub(crate) async fn new_order(app: &TestApp, admin: &reqwest::Client, currency: &str) -> Value {
    let (_, customer) = app
        .send_json(
            admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": "Form Co" }),
        )
        .await;
    let sku = format!("SKU-{currency}-{}", uuid::Uuid::new_v4().simple());
    let (_, product) = app
        .send_json(
            admin,
            Method::POST,
            "/api/v1/products",
            json!({ "sku": sku, "name": "Widget", "unit_price": 1250, "currency": currency }),
        )
        .await;
    let (status, order) = app
        .send_json(
            admin,
            Method::POST,
            "/api/v1/orders",
            json!({ "customer_id": customer["id"], "currency": currency,
                    "items": [{ "product_id": product["id"], "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    order
}

async fn the_order_form_places_an_order_and_opens_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let rep = app.as_role(Some(Role::SalesRep)).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let template = new_order(&app, &admin, "USD").await;
    let customer = template["customer_id"].as_str().expect("customer");
    let product = template["items"][0]["product_id"]
        .as_str()
        .expect("product");

    // Without JavaScript: the browser is sent to the new order.
    let body = format!(
        "form%5Bcustomer_id%5D={customer}&form%5Bcurrency%5D=USD&form%5Bshipping%5D=4.50\
         &form%5Blines%5D%5B0%5D%5Bproduct_id%5D=&form%5Blines%5D%5B0%5D%5Bquantity%5D=1\
         &form%5Blines%5D%5B1%5D%5Bproduct_id%5D={product}&form%5Blines%5D%5B1%5D%5Bquantity%5D=3"
    );
    let res = form_post(&app, &rep, "create_order", &body, "/orders/new").await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.starts_with("/orders/"), "{location}");
    assert!(location.ends_with("?created=1"), "{location}");
    let id = location
        .trim_start_matches("/orders/")
        .trim_end_matches("?created=1");
    let (status, order) = app.get_json(&rep, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(order["shipping_amount"], 450);
    assert_eq!(order["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(order["total"], 3 * 1250 + 450);

    // Mistakes come back to the form, naming the field; nothing is created.
    let before = app.get_json(&rep, "/api/v1/orders").await.1["total"].clone();
    let bad = format!(
        "form[customer_id]={customer}&form[currency]=USD&form[shipping]=4.505\
         &form[lines][0][product_id]={product}&form[lines][0][quantity]=1"
    );
    let (status, err) = rpc(&app, &rep, "create_order", &bad).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Shipping"), "{err}");
    let res = form_post(&app, &rep, "create_order", &bad, "/orders/new").await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().expect("location");
    assert!(
        back.contains("/orders/new") && back.contains("__err"),
        "{back}"
    );
    let after = app.get_json(&rep, "/api/v1/orders").await.1["total"].clone();
    assert_eq!(before, after);

    // A customer cannot place orders from the staff form.
    let customer_user = app.as_role(Some(Role::Customer)).await;
    let (status, _) = rpc(
        &app,
        &customer_user,
        "create_order",
        &bad.replace("4.505", "1"),
    )
    .await;
    assert_eq!(status, 403);
}

async fn the_payment_form_reads_amounts_in_the_order_s_currency(backend: Backend) {
    let app = spawn_app(backend).await;
    let manager = app.as_role(Some(Role::SalesManager)).await;
    let yen = new_order(&app, &manager, "JPY").await;
    let id = yen["id"].as_str().expect("id");
    assert_eq!(yen["total"], 2500);

    // JPY has no decimals: "1.5" is refused, "1000" is a thousand yen.
    let (status, err) = rpc(
        &app,
        &manager,
        "record_payment",
        &format!("order_id={id}&amount=1.5&method=card&reference="),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("no decimals"), "{err}");
    let (status, order) = rpc(
        &app,
        &manager,
        "record_payment",
        &format!("order_id={id}&amount=1%2C000&method=cheque&reference=CHQ-9"),
    )
    .await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["amount_paid"], 1000);
    assert_eq!(order["payment_status"], "PartiallyPaid");
    assert_eq!(order["payments"][0]["method"], "cheque");
    assert_eq!(order["payments"][0]["reference"], "CHQ-9");

    // More than the balance: a conflict, nothing recorded.
    let (status, _) = rpc(
        &app,
        &manager,
        "record_payment",
        &format!("order_id={id}&amount=2000&method=card&reference="),
    )
    .await;
    assert_eq!(status, 409);
    let (status, order) = rpc(&app, &manager, "mark_order_paid", &format!("order_id={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(order["amount_paid"], 2500);
    assert_eq!(order["payment_status"], "Paid");

    // A sales rep sees the order but records no payment.
    let rep = app.as_role(Some(Role::SalesRep)).await;
    let (status, _) = rpc(
        &app,
        &rep,
        "record_payment",
        &format!("order_id={id}&amount=1&method=card&reference="),
    )
    .await;
    assert_eq!(status, 403);
}

async fn sync_now_queues_a_record_skipped_before_the_connection(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, customer) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": "Early Co" }),
        )
        .await;
    let id = customer["id"].as_str().expect("id");
    let mine = |rows: Vec<erp_bridge::server::store::outbox::OutboxRow>| {
        rows.into_iter()
            .filter(|r| r.entity_id == id)
            .collect::<Vec<_>>()
    };
    let before = mine(rows(&app.state.db, tenant).await);
    assert!(
        before.iter().all(|r| r.status == "Completed"),
        "skipped while no ERP is connected: {before:?}"
    );

    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let body = format!("provider=quickbooks&entity_type=Customer&id={id}");
    let (status, queued) = rpc(&app, &admin, "sync_record", &body).await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(queued["queued"], 1);
    let (_, again) = rpc(&app, &admin, "sync_record", &body).await;
    assert_eq!(again["queued"], 0);
    assert_eq!(again["already_queued"], 1);
    let after = mine(rows(&app.state.db, tenant).await);
    let pending: Vec<_> = after
        .iter()
        .filter(|r| r.status == "Pending" && r.target_system.as_deref() == Some("QuickBooks"))
        .collect();
    assert_eq!(pending.len(), 1, "{after:?}");

    let manager = app.as_role(Some(Role::SalesManager)).await;
    let (status, _) = rpc(&app, &manager, "sync_record", &body).await;
    assert_eq!(status, 403);
    let (status, err) = rpc(
        &app,
        &admin,
        "sync_record",
        &format!("provider=quickbooks&entity_type=Invoice&id={id}"),
    )
    .await;
    assert_eq!(status, 400, "{err}");
}

async fn a_sync_run_counts_deliveries_not_queued_rows(backend: Backend) {
    use crate::outbox::{fast_worker, pass};
    use crate::scripted::{ScriptedAdapter, Step};
    use std::sync::Arc;

    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    // Three customers made before QuickBooks was connected: skipped then, sent by the backfill.
    let mut ids = Vec::new();
    for name in ["Early A", "Early B", "Early C"] {
        let (_, c) = app
            .send_json(
                &admin,
                Method::POST,
                "/api/v1/customers",
                json!({ "name": name }),
            )
            .await;
        ids.push(c["id"].as_str().expect("id").to_string());
    }
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let missing = uuid::Uuid::new_v4();
    let (status, started) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/sync/quickbooks",
            json!({ "entity_type": "Customer", "entity_ids": [ids[0], ids[1], ids[2], missing] }),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["successful"], 3);
    assert_eq!(started["failed"], 1);
    let run = started["run_id"].as_str().expect("run id").to_string();
    let path = format!("/api/integrations/sync-runs/{run}");

    let manager = app.as_role(Some(Role::SalesManager)).await;
    let (status, before) = app.get_json(&manager, &path).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["total"], 4);
    assert_eq!(before["pending"], 3);
    assert_eq!(before["delivered"], 0, "queued is not delivered");
    assert_eq!(before["not_queued"], 1);
    assert_eq!(before["percent"], 25);
    assert_eq!(before["complete"], false);
    assert_eq!(before["finished_at"], Value::Null);
    assert!(before["errors"][0]
        .as_str()
        .is_some_and(|e| e.contains("does not exist")));

    // One delivery is rejected for good, the others go through.
    let adapter = Arc::new(ScriptedAdapter::with([Step::Ok, Step::Permanent, Step::Ok]));
    for _ in 0..3 {
        pass(&app.state.db, adapter.clone(), fast_worker()).await;
    }
    let (_, after) = app.get_json(&manager, &path).await;
    assert_eq!(after["delivered"], 2, "{after}");
    assert_eq!(after["failed"], 1);
    assert_eq!(after["pending"], 0);
    assert_eq!(after["percent"], 100);
    assert_eq!(after["complete"], true);
    assert!(after["finished_at"].is_string());

    // Asking again while nothing waits re-sends; a second run shares a row that still waits.
    let (_, again) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/sync/quickbooks",
            json!({ "entity_type": "Customer", "entity_ids": [ids[0]] }),
        )
        .await;
    let (_, twice) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/sync/quickbooks",
            json!({ "entity_type": "Customer", "entity_ids": [ids[0]] }),
        )
        .await;
    assert_eq!(again["successful"], 1, "{again}");
    assert_eq!(twice["skipped"], 1);
    let (_, shared) = app
        .get_json(
            &manager,
            &format!(
                "/api/integrations/sync-runs/{}",
                twice["run_id"].as_str().expect("run")
            ),
        )
        .await;
    assert_eq!(
        shared["pending"], 1,
        "the waiting row counts for both runs: {shared}"
    );

    let (status, list) = app.get_json(&manager, "/api/integrations/sync-runs").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][2]["id"], run.as_str(), "newest first");

    // Only records changed since a day: none changed in the future.
    let (_, none) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/sync/quickbooks",
            json!({ "entity_type": "All", "since": "2999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(none["total_processed"], 0, "{none}");
    let (_, empty) = app
        .get_json(
            &manager,
            &format!(
                "/api/integrations/sync-runs/{}",
                none["run_id"].as_str().expect("run")
            ),
        )
        .await;
    assert_eq!(empty["complete"], true);
    assert_eq!(empty["percent"], 100);

    // Another tenant's run does not exist here.
    let (status, _) = app
        .get_json(
            &manager,
            &format!("/api/integrations/sync-runs/{}", uuid::Uuid::new_v4()),
        )
        .await;
    assert_eq!(status, 404);

    // The form: a bad date names its field; a good post opens the run's page.
    let (status, err) = rpc(
        &app,
        &admin,
        "start_sync_run",
        "provider=quickbooks&scope=All&since=yesterday&ids=",
    )
    .await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("Changed since"), "{err}");
    let res = form_post(
        &app,
        &admin,
        "start_sync_run",
        &format!("provider=quickbooks&scope=Customer&since=&ids={}", ids[1]),
        "/integrations/quickbooks/sync",
    )
    .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("/integrations/sync-runs/"),
        "{location}"
    );
}

async fn a_retried_delivery_s_badge_follows_the_re_send(backend: Backend) {
    use crate::outbox::{fast_worker, pass};
    use crate::scripted::{ScriptedAdapter, Step};
    use std::sync::Arc;

    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, customer) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": "Retry Co" }),
        )
        .await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().expect("id"));
    let badge = |c: Value| c["sync"][0].clone();

    pass(
        &app.state.db,
        Arc::new(ScriptedAdapter::with([Step::Permanent])),
        fast_worker(),
    )
    .await;
    let failed = badge(app.get_json(&admin, &path).await.1);
    assert_eq!(failed["state"], "Failed", "{failed}");
    let outbox_id = failed["outbox_id"].as_str().expect("outbox id").to_string();

    let (status, resent) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/outbox/{outbox_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    assert_eq!(
        badge(app.get_json(&admin, &path).await.1)["state"],
        "Pending"
    );
    pass(
        &app.state.db,
        Arc::new(ScriptedAdapter::ok()),
        fast_worker(),
    )
    .await;
    let synced = badge(app.get_json(&admin, &path).await.1);
    assert_eq!(
        synced["state"], "Synced",
        "the re-send, not the row it replaced: {synced}"
    );
}

/// Each console page, rendered on the server for each role: the status a browser gets.
async fn console_pages_answer_each_role_with_the_right_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    connect(&app.state.db, tenant, Provider::QuickBooks).await;
    let missing = uuid::Uuid::new_v4();
    // [Admin, SalesManager, SalesRep, Customer]
    let pages: Vec<(String, [u16; 4])> = vec![
        ("/orders/new".into(), [200, 200, 200, 403]),
        (
            "/integrations/quickbooks/settings".into(),
            [200, 200, 403, 403],
        ),
        ("/integrations/quickbooks/sync".into(), [200, 200, 403, 403]),
        (
            "/integrations/quickbooks/mappings".into(),
            [200, 200, 403, 403],
        ),
        ("/integrations/outbox".into(), [200, 403, 403, 403]),
        ("/integrations/inbox".into(), [200, 403, 403, 403]),
        ("/admin/users".into(), [200, 403, 403, 403]),
        (
            format!("/integrations/logs/{missing}"),
            [404, 404, 403, 403],
        ),
        (
            format!("/integrations/sync-runs/{missing}"),
            [404, 404, 403, 403],
        ),
    ];
    let roles = [
        Role::Admin,
        Role::SalesManager,
        Role::SalesRep,
        Role::Customer,
    ];
    let mut wrong = Vec::new();
    for (i, role) in roles.into_iter().enumerate() {
        let c = app.as_role(Some(role)).await;
        for (path, expect) in &pages {
            let status = app.page(&c, path).await.status().as_u16();
            if status != expect[i] {
                wrong.push(format!(
                    "{path} as {role:?}: {status}, expected {}",
                    expect[i]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn the_inbox_viewer_lists_by_status_and_retries_failed_events(backend: Backend) {
    use erp_bridge::server::store::inbox::{self, InboxRow};
    let app = spawn_app(backend).await;
    let tenant = demo_tenant(&app.state.db).await;
    let event = |tenant_id, n: usize, status: &str| InboxRow {
        id: uuid::Uuid::now_v7(),
        tenant_id,
        provider: "QuickBooks".into(),
        external_event_id: format!("evt-{n}"),
        external_company_id: Some("123".into()),
        event_type: Some("Create".into()),
        entity_type: Some("Payment".into()),
        entity_id: Some(format!("{n}")),
        payload: None,
        received_at: erp_bridge::server::time::now(),
        status: status.into(),
    };
    let rows = vec![
        event(tenant, 1, "Completed"),
        event(tenant, 2, "Failed"),
        event(tenant, 3, "Failed"),
        event(app.other_tenant, 4, "Failed"),
    ];
    inbox::insert_many(&app.state.db, &rows)
        .await
        .expect("inbox");
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, all) = app.get_json(&admin, "/api/integrations/inbox").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 3, "the tenant's own events only");
    let (_, failed) = app
        .get_json(&admin, "/api/integrations/inbox?status=Failed")
        .await;
    assert_eq!(failed["total"], 2);
    let (status, _) = app
        .get_json(&admin, "/api/integrations/inbox?status=Lost")
        .await;
    assert_eq!(status, 400);

    let one = failed["items"][0]["id"].as_str().expect("id").to_string();
    let (status, done) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/inbox/{one}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["requeued"], 1);
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/inbox/{one}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "no longer failed");
    let theirs = rows[3].id;
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/integrations/inbox/{theirs}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "another tenant's event is not here");
    let (status, n) = rpc(&app, &admin, "retry_inbox_failed", "").await;
    assert_eq!(status, 200);
    assert_eq!(n, 1);
    let (_, left) = app
        .get_json(&admin, "/api/integrations/inbox?status=Failed")
        .await;
    assert_eq!(left["total"], 0);
    let manager = app.as_role(Some(Role::SalesManager)).await;
    assert_eq!(
        app.get_json(&manager, "/api/integrations/inbox").await.0,
        403
    );
}

/// Building an app once generated the page routes by rendering the app with resource loading
/// switched off process-wide, so a page of another app whose data started loading at that
/// instant never finished (it hung a CI run). Pages load while apps are built beside them.
async fn pages_render_while_other_apps_are_built_in_the_process(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in(crate::helpers::demo_email(Role::Admin)).await;
    let state = app.state.clone();
    let builder = tokio::task::spawn_blocking(move || {
        for _ in 0..50 {
            drop(erp_bridge::server::router::build(state.clone()));
        }
    });
    let mut statuses = Vec::new();
    // Waves of page loads for as long as apps are being built.
    while statuses.is_empty() || !builder.is_finished() {
        let wave = (0..8).map(|_| {
            let page = admin
                .get(app.url("/admin/api-tokens"))
                .timeout(std::time::Duration::from_secs(20))
                .send();
            async move {
                match page.await {
                    Ok(res) => res.status().as_u16(),
                    Err(e) => panic!("a page stalled: {e}"),
                }
            }
        });
        statuses.extend(futures::future::join_all(wave).await);
    }
    builder.await.expect("builds");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}
