//! RBAC: one table over every server function and JSON route × every role and anonymous.
//! The table must name every route the application registers (and nothing else), so adding a
//! route without deciding who may use it fails here.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use erp_bridge::domain::Role;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Expected status per caller: [anonymous, Admin, SalesManager, SalesRep, Customer].
type Expect = [u16; 5];

const CALLERS: [Option<Role>; 5] = [
    None,
    Some(Role::Admin),
    Some(Role::SalesManager),
    Some(Role::SalesRep),
    Some(Role::Customer),
];

const SIGNED_IN: Expect = [401, 200, 200, 200, 200];
const ADMIN_ONLY: Expect = [401, 200, 403, 403, 403];
const VIEWERS: Expect = [401, 200, 200, 403, 403];
const STAFF: Expect = [401, 200, 200, 200, 403];
const STAFF_CREATE: Expect = [401, 201, 201, 201, 403];
const MANAGERS: Expect = [401, 200, 200, 403, 403];

enum Body {
    None,
    Json(fn(usize, &Ids) -> serde_json::Value),
    Form(fn(usize, &Ids) -> String),
}

struct Case {
    method: &'static str,
    /// The registered path (with `{param}` placeholders).
    route: &'static str,
    body: Body,
    expect: Expect,
}

/// Ids of real records the cases point at.
struct Ids {
    admin_user: String,
    token: String,
    customer: String,
    product: String,
    order: String,
    paid: String,
    item: String,
    outbox: String,
    log: String,
    run: String,
}

fn cases() -> Vec<Case> {
    use Body::*;
    let c = |method, route, body, expect| Case {
        method,
        route,
        body,
        expect,
    };
    vec![
        // JSON API
        c(
            "GET",
            "/api/v1/openapi.json",
            None,
            [200, 200, 200, 200, 200],
        ),
        c("GET", "/api/v1/me", None, SIGNED_IN),
        c("GET", "/api/v1/users", None, ADMIN_ONLY),
        c(
            "POST",
            "/api/v1/users",
            Json(|n, _| {
                serde_json::json!({
                    "email": format!("rbac{n}@demo.example"), "role": "SalesRep", "password": "long-enough-password"
                })
            }),
            [401, 201, 403, 403, 403],
        ),
        c("GET", "/api/v1/users/{id}", None, ADMIN_ONLY),
        c(
            "PATCH",
            "/api/v1/users/{id}",
            Json(|_, _| serde_json::json!({ "is_active": true })),
            ADMIN_ONLY,
        ),
        c("GET", "/api/v1/api-tokens", None, ADMIN_ONLY),
        c(
            "POST",
            "/api/v1/api-tokens",
            Json(|n, _| serde_json::json!({ "name": format!("t{n}"), "role": "SalesRep" })),
            [401, 201, 403, 403, 403],
        ),
        c(
            "DELETE",
            "/api/v1/api-tokens/{id}",
            None,
            [401, 204, 403, 403, 403],
        ),
        c("GET", "/api/integrations/connections", None, VIEWERS),
        c("GET", "/api/v1/customers", None, STAFF),
        c(
            "POST",
            "/api/v1/customers",
            Json(|n, _| serde_json::json!({ "name": format!("RBAC {n}") })),
            STAFF_CREATE,
        ),
        c("GET", "/api/v1/customers/{id}", None, STAFF),
        c(
            "PUT",
            "/api/v1/customers/{id}",
            Json(|n, _| serde_json::json!({ "name": format!("Renamed {n}") })),
            STAFF,
        ),
        c("GET", "/api/v1/products", None, STAFF),
        c(
            "POST",
            "/api/v1/products",
            Json(
                |n, _| serde_json::json!({ "sku": format!("RB-{n}"), "name": "x", "unit_price": 100 }),
            ),
            [401, 201, 201, 403, 403],
        ),
        c("GET", "/api/v1/products/{id}", None, STAFF),
        c(
            "PUT",
            "/api/v1/products/{id}",
            Json(
                |n, _| serde_json::json!({ "sku": format!("RBU-{n}"), "name": "y", "unit_price": 100 }),
            ),
            MANAGERS,
        ),
        c("GET", "/api/v1/orders", None, SIGNED_IN),
        c(
            "POST",
            "/api/v1/orders",
            Json(|_, ids| {
                serde_json::json!({
            "customer_id": ids.customer, "items": [{ "product_id": ids.product, "quantity": 1 }] })
            }),
            STAFF_CREATE,
        ),
        c("GET", "/api/v1/orders/{id}", None, SIGNED_IN),
        c(
            "PATCH",
            "/api/v1/orders/{id}",
            Json(|_, _| serde_json::json!({ "shipping_amount": 500 })),
            STAFF,
        ),
        c("POST", "/api/v1/orders/{paid}/mark-paid", None, MANAGERS),
        c(
            "POST",
            "/api/v1/orders/{id}/payments",
            Json(|_, _| serde_json::json!({ "amount": 1 })),
            [401, 201, 201, 403, 403],
        ),
        c(
            "PATCH",
            "/api/v1/orders/{id}/items/{item}",
            Json(|_, _| serde_json::json!({ "status": "Allocated" })),
            STAFF,
        ),
        c("GET", "/api/integrations/outbox", None, ADMIN_ONLY),
        c("GET", "/api/integrations/logs", None, VIEWERS),
        // 409: allowed, but the row is not failed (a 403 would mean refused).
        c(
            "POST",
            "/api/integrations/outbox/{outbox}/retry",
            None,
            [401, 409, 403, 403, 403],
        ),
        // 409: allowed, but the row is already delivered.
        c(
            "POST",
            "/api/integrations/outbox/{outbox}/dismiss",
            None,
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/connections/quickbooks/breaker/close",
            None,
            [401, 204, 403, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/logs/{log}/retry",
            None,
            [401, 409, 409, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/sync/quickbooks/retry-failed",
            None,
            ADMIN_ONLY,
        ),
        c(
            "PUT",
            "/api/integrations/connections/quickbooks/settings",
            Json(|_, _| {
                serde_json::json!({
            "auto_sync_enabled": true, "sync_customers": true, "sync_invoices": true, "sync_payments": true })
            }),
            [401, 204, 403, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/sync/quickbooks",
            Json(|_, _| serde_json::json!({ "entity_type": "Customer" })),
            ADMIN_ONLY,
        ),
        c(
            "GET",
            "/api/integrations/connections/quickbooks",
            None,
            VIEWERS,
        ),
        c("GET", "/api/integrations/logs/{log}", None, VIEWERS),
        c("GET", "/api/integrations/sync-runs", None, VIEWERS),
        c(
            "GET",
            "/api/integrations/export/sync-logs.csv",
            None,
            ADMIN_ONLY,
        ),
        c(
            "GET",
            "/api/integrations/export/audit.csv",
            None,
            ADMIN_ONLY,
        ),
        c("GET", "/api/integrations/inbox", None, ADMIN_ONLY),
        // 400: allowed, but this app has no QuickBooks configured.
        c(
            "GET",
            "/api/integrations/quickbooks/reconciliation",
            None,
            [401, 400, 403, 403, 403],
        ),
        c(
            "GET",
            "/api/integrations/quickbooks/reconciliation.csv",
            None,
            [401, 400, 403, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/quickbooks/reconciliation/actions",
            Json(|_, _| serde_json::json!({ "action": "Dismiss", "kind": "Unmapped", "key": "k" })),
            [401, 400, 403, 403, 403],
        ),
        // 409: allowed, but there is no failed event with that id.
        c(
            "POST",
            "/api/integrations/inbox/{outbox}/retry",
            None,
            [401, 409, 403, 403, 403],
        ),
        c(
            "GET",
            "/api/integrations/mappings/quickbooks/Customer",
            None,
            VIEWERS,
        ),
        c("GET", "/api/integrations/sync-runs/{run}", None, VIEWERS),
        // 400: allowed, but this test app has no QuickBooks client configured.
        c(
            "GET",
            "/api/integrations/quickbooks/authorize",
            None,
            [401, 400, 403, 403, 403],
        ),
        // 422: allowed, but the account id is not one (refused before NetSuite is asked).
        c(
            "POST",
            "/api/integrations/netsuite/connect",
            Json(|_, _| {
                serde_json::json!({ "account_id": "not an account", "credentials": {
                    "method": "tba", "consumer_key": "a", "consumer_secret": "b", "token_id": "c", "token_secret": "d" } })
            }),
            [401, 422, 403, 403, 403],
        ),
        // 409: allowed, but NetSuite is not connected.
        c(
            "POST",
            "/api/integrations/netsuite/validate",
            None,
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/api/integrations/netsuite/pull",
            None,
            [401, 409, 403, 403, 403],
        ),
        // Last for each caller: it disconnects the tenant.
        c(
            "DELETE",
            "/api/integrations/connections/quickbooks",
            None,
            [401, 204, 403, 403, 403],
        ),
        // Server functions (the UI's calls)
        c("POST", "/rpc/whoami", None, [200, 200, 200, 200, 200]),
        c("POST", "/rpc/list_users", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/create_user",
            Form(|n, _| {
                format!(
            "email=rbacfn{n}%40demo.example&display_name=x&role=SalesRep&password=long-enough-password"
        )
            }),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/list_api_tokens", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/create_api_token",
            Form(|n, _| format!("name=fn{n}&role=SalesRep")),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/take_created_api_token", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/revoke_api_token",
            Form(|_, ids| format!("id={}", ids.token)),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/list_connections", None, VIEWERS),
        c(
            "POST",
            "/rpc/list_sync_logs",
            Form(|_, _| "filter[page]=1&filter[status]=Failed".into()),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/list_orders",
            Form(|_, _| "page=1".into()),
            SIGNED_IN,
        ),
        c(
            "POST",
            "/rpc/get_order",
            Form(|_, ids| format!("id={}", ids.order)),
            SIGNED_IN,
        ),
        c(
            "POST",
            "/rpc/list_customers",
            Form(|_, _| "page=1".into()),
            STAFF,
        ),
        c(
            "POST",
            "/rpc/get_customer",
            Form(|_, ids| format!("id={}", ids.customer)),
            STAFF,
        ),
        c(
            "POST",
            "/rpc/disconnect_provider",
            Form(|_, _| "provider=quickbooks".into()),
            ADMIN_ONLY,
        ),
        c(
            "POST",
            "/rpc/connect_netsuite",
            Form(|_, _| {
                "account_id=not+an+account&method=tba&consumer_key=a&consumer_secret=b&token_id=c&token_secret=d".into()
            }),
            [401, 422, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/validate_netsuite",
            None,
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/pull_netsuite",
            None,
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/close_breaker",
            Form(|_, _| "provider=quickbooks".into()),
            ADMIN_ONLY,
        ),
        c(
            "POST",
            "/rpc/retry_failed_sync",
            Form(|_, ids| format!("outbox_id={}", ids.outbox)),
            [401, 409, 409, 403, 403],
        ),
        c(
            "POST",
            "/rpc/list_products",
            Form(|_, _| "page=1".into()),
            STAFF,
        ),
        c("POST", "/rpc/customer_choices", None, STAFF),
        c(
            "POST",
            "/rpc/create_customer",
            Form(|n, _| format!("form%5Bname%5D=RBAC+form+{n}")),
            STAFF,
        ),
        c(
            "POST",
            "/rpc/create_order",
            Form(|_, ids| {
                format!(
                    "form[customer_id]={}&form[currency]=USD&form[lines][0][product_id]={}&form[lines][0][quantity]=1",
                    ids.customer, ids.product
                )
            }),
            STAFF,
        ),
        c(
            "POST",
            "/rpc/record_payment",
            Form(|_, ids| format!("order_id={}&amount=0.01&method=card&reference=", ids.order)),
            MANAGERS,
        ),
        c(
            "POST",
            "/rpc/mark_order_paid",
            Form(|_, ids| format!("order_id={}", ids.paid)),
            MANAGERS,
        ),
        c(
            "POST",
            "/rpc/sync_record",
            Form(|_, ids| {
                format!(
                    "provider=quickbooks&entity_type=Customer&id={}",
                    ids.customer
                )
            }),
            // 409: allowed, but QuickBooks was disconnected by the DELETE above.
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/get_connection",
            Form(|_, _| "provider=quickbooks".into()),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/get_sync_log",
            Form(|_, ids| format!("id={}", ids.log)),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/retry_sync_log",
            Form(|_, ids| format!("id={}", ids.log)),
            [401, 409, 409, 403, 403],
        ),
        c(
            "POST",
            "/rpc/start_sync_run",
            Form(|_, _| "provider=quickbooks&scope=Customer&since=2026-01-01&ids=".into()),
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/get_sync_run",
            Form(|_, ids| format!("id={}", ids.run)),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/list_sync_runs",
            Form(|_, _| "page=1".into()),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/list_mappings",
            Form(|_, _| "provider=quickbooks&entity_type=Customer&q=&page=1".into()),
            VIEWERS,
        ),
        c(
            "POST",
            "/rpc/list_inbox",
            Form(|_, _| "status=Failed&page=1".into()),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/retry_inbox_failed", None, ADMIN_ONLY),
        // 400: allowed, but this app has no QuickBooks configured.
        c(
            "POST",
            "/rpc/reconciliation_report",
            Form(|_, _| "from=&to=".into()),
            [401, 400, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/reconciliation_action",
            Form(|_, _| "action=Dismiss&kind=unmapped&key=k&order_id=&external_id=&back=".into()),
            [401, 400, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/update_user",
            Form(|_, ids| {
                format!(
                    "id={}&role=Admin&active=on&customer_number=",
                    ids.admin_user
                )
            }),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/dashboard_health", None, VIEWERS),
        c(
            "POST",
            "/rpc/list_outbox",
            Form(|_, _| "status=Failed&page=1".into()),
            ADMIN_ONLY,
        ),
        // 409: allowed, but the row is neither failed nor waiting any more.
        c(
            "POST",
            "/rpc/retry_outbox",
            Form(|_, ids| format!("id={}", ids.outbox)),
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/dismiss_outbox",
            Form(|_, ids| format!("id={}&reason=rbac", ids.outbox)),
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/retry_all_failed",
            Form(|_, _| "provider=quickbooks".into()),
            ADMIN_ONLY,
        ),
        c(
            "POST",
            "/rpc/dismiss_sync_log",
            Form(|_, ids| format!("id={}&reason=rbac", ids.log)),
            // 409: allowed, but the delivery behind it is no longer waiting (settled or dismissed).
            [401, 409, 403, 403, 403],
        ),
        c(
            "POST",
            "/rpc/save_settings",
            Form(|_, _| {
                "provider=quickbooks&auto_sync_enabled=on&sync_customers=on&sync_invoices=on&sync_payments=on&pull_frequency_minutes=15&diagnostic_minutes=".into()
            }),
            ADMIN_ONLY,
        ),
    ]
}

/// The table's route in the router's syntax (the table names which record a parameter uses).
fn registered_form(route: &str) -> String {
    route
        .replace("orders/{paid}", "orders/{id}")
        .replace(
            "orders/{id}/items/{item}",
            "orders/{order_id}/items/{item_id}",
        )
        .replace("{outbox}", "{id}")
        .replace("{log}", "{id}")
        .replace("{run}", "{id}")
        .replace("/sync/quickbooks", "/sync/{provider}")
        .replace("/connections/quickbooks", "/connections/{provider}")
        .replace(
            "/mappings/quickbooks/Customer",
            "/mappings/{provider}/{entity_type}",
        )
}

fn registered_routes() -> BTreeSet<(String, String)> {
    let mut all: BTreeSet<(String, String)> = erp_bridge::server::http::api::routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        all.insert((method.to_string(), path.to_string()));
    }
    all
}

#[test]
fn the_table_names_every_registered_route() {
    let table: BTreeSet<(String, String)> = cases()
        .iter()
        .map(|c| (c.method.to_string(), registered_form(c.route)))
        .collect();
    let registered = registered_routes();
    let missing: Vec<_> = registered.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without an RBAC expectation: {missing:?}"
    );
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "RBAC expectations for routes that do not exist: {stale:?}"
    );
}

both_backends!(every_route_answers_every_role_as_the_table_says);

async fn every_route_answers_every_role_as_the_table_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = prepare(&app).await;
    let counter = AtomicUsize::new(0);
    let mut failures = Vec::new();
    for caller in CALLERS {
        let client = app.as_role(caller).await;
        for case in cases() {
            let status = call(
                &app,
                &client,
                &case,
                &ids,
                counter.fetch_add(1, Ordering::Relaxed),
            )
            .await;
            let expected = case.expect[CALLERS.iter().position(|c| *c == caller).expect("caller")];
            if status != expected {
                failures.push(format!(
                    "{} {} as {caller:?}: got {status}, expected {expected}",
                    case.method, case.route
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC mismatches:\n{}",
        failures.join("\n")
    );
}

async fn prepare(app: &TestApp) -> Ids {
    let admin = app.as_role(Some(Role::Admin)).await;
    let me: serde_json::Value = admin
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let token: serde_json::Value = admin
        .post(app.url("/api/v1/api-tokens"))
        .json(&serde_json::json!({ "name": "rbac", "role": "SalesRep" }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let db = &app.state.db;
    let tenant = crate::outbox::demo_tenant(db).await;
    crate::outbox::connect(
        db,
        tenant,
        erp_bridge::domain::connection::Provider::QuickBooks,
    )
    .await;
    // The demo Customer user belongs to the first demo customer: its orders are visible to it.
    let (_, customers) = app.get_json(&admin, "/api/v1/customers").await;
    let customer = customers["items"][0]["id"]
        .as_str()
        .expect("customer")
        .to_string();
    let post = |path: &'static str, body: serde_json::Value| {
        app.send_json(&admin, reqwest::Method::POST, path, body)
    };
    let (_, product) = post(
        "/api/v1/products",
        serde_json::json!({ "sku": "RBAC-P", "name": "P", "unit_price": 1000 }),
    )
    .await;
    let product = product["id"].as_str().expect("product").to_string();
    let order_body = serde_json::json!({ "customer_id": customer, "items": [{ "product_id": product, "quantity": 3 }] });
    let (_, order) = post("/api/v1/orders", order_body.clone()).await;
    let (_, paid) = post("/api/v1/orders", order_body).await;
    let outbox = crate::outbox::rows(db, tenant)
        .await
        .pop()
        .expect("an outbox row");
    let log = erp_bridge::server::store::sync_logs::SyncLogRow {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        provider: "QuickBooks".into(),
        entity_type: outbox.entity_type.clone(),
        entity_id: Some(outbox.entity_id.clone()),
        external_id: None,
        event_type: None,
        outbox_id: Some(outbox.id),
        direction: "ToExternal".into(),
        status: "Completed".into(),
        error_message: None,
        request_payload: None,
        response_payload: None,
        started_at: erp_bridge::server::time::now(),
        completed_at: None,
        duration_ms: None,
        retry_count: 0,
        correlation_id: None,
    };
    let mut tx = db.begin().await.expect("tx");
    erp_bridge::server::store::sync_logs::insert(&mut tx, &log)
        .await
        .expect("log");
    tx.commit().await.expect("commit");
    let (status, sync) = post(
        "/api/integrations/sync/quickbooks",
        serde_json::json!({ "entity_type": "Customer" }),
    )
    .await;
    assert_eq!(status, 200, "{sync}");
    Ids {
        admin_user: me["user"]["id"].as_str().expect("id").to_string(),
        token: token["summary"]["id"].as_str().expect("id").to_string(),
        customer,
        product,
        item: order["items"][0]["id"].as_str().expect("item").to_string(),
        order: order["id"].as_str().expect("order").to_string(),
        paid: paid["id"].as_str().expect("order").to_string(),
        outbox: outbox.id.to_string(),
        log: log.id.to_string(),
        run: sync["run_id"].as_str().expect("run id").to_string(),
    }
}

async fn call(app: &TestApp, client: &reqwest::Client, case: &Case, ids: &Ids, n: usize) -> u16 {
    let id = match case.route {
        r if r.contains("/users") => &ids.admin_user,
        r if r.contains("/api-tokens") => &ids.token,
        r if r.contains("/customers") => &ids.customer,
        r if r.contains("/products") => &ids.product,
        _ => &ids.order,
    };
    let path = case
        .route
        .replace("{id}", id)
        .replace("{paid}", &ids.paid)
        .replace("{item}", &ids.item)
        .replace("{outbox}", &ids.outbox)
        .replace("{log}", &ids.log)
        .replace("{run}", &ids.run);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let mut req = client
        .request(method, app.url(&path))
        .header("accept", "application/json");
    req = match &case.body {
        Body::None if path.starts_with("/rpc/") => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(""),
        Body::None => req,
        Body::Json(f) => req.json(&f(n, ids)),
        Body::Form(f) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(f(n, ids)),
    };
    req.send().await.expect("request").status().as_u16()
}
