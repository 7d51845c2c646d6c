//! Commerce core over the JSON API: totals in minor units, order item isolation with audit,
//! customers seeing only their own orders, payments raising the right events.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::outbox::{connect, demo_tenant, rows};
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    orders_compute_totals_in_minor_units_and_reject_bad_input,
    an_item_status_change_touches_only_its_own_order,
    customers_see_only_their_own_orders,
    payments_move_the_order_to_paid_and_raise_events,
    lists_are_paged,
);

/// entity_id, order_id, before_json, after_json of an audit event.
type AuditRow = (String, Option<uuid::Uuid>, Option<String>, Option<String>);

struct Fixture {
    admin: reqwest::Client,
    customer: String,
    other_customer: String,
    widget: String,
    gadget: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.as_role(Some(Role::Admin)).await;
    let (_, customers) = app.get_json(&admin, "/api/v1/customers").await;
    let id = |i: usize| {
        customers["items"][i]["id"]
            .as_str()
            .expect("customer")
            .to_string()
    };
    let product = |sku: &str, price: i64| json!({ "sku": sku, "name": format!("{sku} name"), "unit_price": price });
    let (_, widget) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/products",
            product("WIDGET", 1250),
        )
        .await;
    let (_, gadget) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/products",
            product("GADGET", 999),
        )
        .await;
    Fixture {
        customer: id(0),
        other_customer: id(1),
        widget: widget["id"].as_str().expect("id").to_string(),
        gadget: gadget["id"].as_str().expect("id").to_string(),
        admin,
    }
}

async fn order(
    app: &TestApp,
    f: &Fixture,
    customer: &str,
    lines: &[(&str, i64)],
    shipping: i64,
) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
        .collect();
    let body = json!({ "customer_id": customer, "shipping_amount": shipping, "items": items });
    let (status, order) = app
        .send_json(&f.admin, Method::POST, "/api/v1/orders", body)
        .await;
    assert_eq!(status, 201, "{order}");
    order
}

async fn orders_compute_totals_in_minor_units_and_reject_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let o = order(
        &app,
        &f,
        &f.customer,
        &[(&f.widget, 3), (&f.gadget, 2)],
        1500,
    )
    .await;
    assert_eq!(
        (
            o["subtotal"].as_i64(),
            o["shipping_amount"].as_i64(),
            o["total"].as_i64()
        ),
        (Some(5748), Some(1500), Some(7248))
    );
    assert_eq!(o["items"][0]["amount"], 3750);
    assert_eq!(
        (o["status"].as_str(), o["payment_status"].as_str()),
        (Some("Placed"), Some("Unpaid"))
    );
    assert!(o["order_number"].as_i64().is_some_and(|n| n > 10000));
    let bad = |body: Value| app.send_json(&f.admin, Method::POST, "/api/v1/orders", body);
    let no_items = bad(json!({ "customer_id": f.customer, "items": [] })).await;
    assert_eq!(no_items.0, 400);
    let zero_qty = bad(
        json!({ "customer_id": f.customer, "items": [{ "product_id": f.widget, "quantity": 0 }] }),
    )
    .await;
    assert_eq!(zero_qty.0, 400);
    assert!(zero_qty.1["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("quantity"));
    let unknown = bad(json!({ "customer_id": f.customer, "items": [{ "product_id": uuid::Uuid::now_v7(), "quantity": 1 }] })).await;
    assert_eq!(
        unknown.0, 409,
        "a product that does not exist: {}",
        unknown.1
    );
    let overflow = bad(json!({ "customer_id": f.customer, "items": [{ "product_id": f.widget, "quantity": 1000, "unit_price": i64::MAX / 10 }] })).await;
    assert_eq!(overflow.0, 400);
    let dup_sku = app
        .send_json(
            &f.admin,
            Method::POST,
            "/api/v1/products",
            json!({ "sku": "WIDGET", "name": "again", "unit_price": 1 }),
        )
        .await;
    assert_eq!(dup_sku.0, 409);
}

async fn an_item_status_change_touches_only_its_own_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    // Three orders sharing the same products.
    let a = order(&app, &f, &f.customer, &[(&f.widget, 1), (&f.gadget, 1)], 0).await;
    let b = order(&app, &f, &f.customer, &[(&f.widget, 5)], 0).await;
    let c = order(
        &app,
        &f,
        &f.other_customer,
        &[(&f.gadget, 2), (&f.widget, 2)],
        0,
    )
    .await;
    let a_widget = a["items"][0]["id"].as_str().expect("item");
    let b_widget = b["items"][0]["id"].as_str().expect("item");
    let path = |o: &Value, item: &str| {
        format!(
            "/api/v1/orders/{}/items/{item}",
            o["id"].as_str().expect("id")
        )
    };

    let (status, updated) = app
        .send_json(
            &f.admin,
            Method::PATCH,
            &path(&a, a_widget),
            json!({ "status": "Shipped" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["items"][0]["status"], "Shipped");
    assert_eq!(
        updated["items"][1]["status"], "Pending",
        "the other line of the same order"
    );
    for other in [&b, &c] {
        let (_, fresh) = app
            .get_json(
                &f.admin,
                &format!("/api/v1/orders/{}", other["id"].as_str().expect("id")),
            )
            .await;
        assert!(
            fresh["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|i| i["status"] == "Pending"),
            "{fresh}"
        );
    }
    // An item addressed through the wrong order is not found, and nothing changes.
    let (status, _) = app
        .send_json(
            &f.admin,
            Method::PATCH,
            &path(&a, b_widget),
            json!({ "status": "Cancelled" }),
        )
        .await;
    assert_eq!(status, 404);
    let (_, b_fresh) = app
        .get_json(
            &f.admin,
            &format!("/api/v1/orders/{}", b["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(b_fresh["items"][0]["status"], "Pending");
    // The change is audited with its order context.
    let audits: Vec<AuditRow> = erp_bridge::on_conn!(app.state.db.read(), p =>
        sqlx::query_as("SELECT entity_id, order_id, before_json, after_json FROM audit_events WHERE action = 'order_item.status_changed'")
            .fetch_all(p).await).expect("audit");
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0, a_widget);
    assert_eq!(
        audits[0].1.map(|u| u.to_string()).as_deref(),
        a["id"].as_str()
    );
    assert_eq!(
        (audits[0].2.as_deref(), audits[0].3.as_deref()),
        (
            Some(r#"{"status":"Pending"}"#),
            Some(r#"{"status":"Shipped"}"#)
        )
    );
}

async fn customers_see_only_their_own_orders(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let mine = order(&app, &f, &f.customer, &[(&f.widget, 1)], 0).await;
    let theirs = order(&app, &f, &f.other_customer, &[(&f.widget, 1)], 0).await;
    let customer = app.as_role(Some(Role::Customer)).await;
    let (_, list) = app.get_json(&customer, "/api/v1/orders").await;
    let listed = list["items"].as_array().expect("items");
    let ids: Vec<&str> = listed.iter().filter_map(|o| o["id"].as_str()).collect();
    assert!(ids.contains(&mine["id"].as_str().expect("id")));
    assert!(!ids.contains(&theirs["id"].as_str().expect("id")));
    assert!(
        listed
            .iter()
            .all(|o| o["customer_id"].as_str() == Some(f.customer.as_str())),
        "only its own orders"
    );
    assert_eq!(list["total"].as_u64(), Some(ids.len() as u64));
    let other = format!("/api/v1/orders/{}", theirs["id"].as_str().expect("id"));
    assert_eq!(app.get_json(&customer, &other).await.0, 404);
    assert_eq!(app.get_json(&customer, "/api/v1/customers").await.0, 403);
}

async fn payments_move_the_order_to_paid_and_raise_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.state.db;
    let tenant = demo_tenant(db).await;
    connect(db, tenant, Provider::QuickBooks).await;
    let f = fixture(&app).await;
    let o = order(&app, &f, &f.customer, &[(&f.widget, 2)], 500).await;
    let id = o["id"].as_str().expect("id");
    let payments = format!("/api/v1/orders/{id}/payments");
    let pay = |amount: i64| {
        app.send_json(
            &f.admin,
            Method::POST,
            &payments,
            json!({ "amount": amount, "method": "card" }),
        )
    };
    let (status, partial) = pay(1000).await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            partial["payment_status"].as_str(),
            partial["amount_paid"].as_i64()
        ),
        (Some("PartiallyPaid"), Some(1000))
    );
    assert_eq!(pay(5000).await.0, 409, "more than the balance");
    let (_, paid) = app
        .send_json(
            &f.admin,
            Method::POST,
            &format!("/api/v1/orders/{id}/mark-paid"),
            json!(null),
        )
        .await;
    assert_eq!(
        (
            paid["payment_status"].as_str(),
            paid["amount_paid"].as_i64()
        ),
        (Some("Paid"), Some(3000))
    );
    assert_eq!(paid["payments"].as_array().map(Vec::len), Some(2));
    let (_, again) = app
        .send_json(
            &f.admin,
            Method::POST,
            &format!("/api/v1/orders/{id}/mark-paid"),
            json!(null),
        )
        .await;
    assert_eq!(
        again["payments"].as_array().map(Vec::len),
        Some(2),
        "marking a paid order paid changes nothing"
    );
    let events: Vec<String> = rows(db, tenant)
        .await
        .into_iter()
        .filter(|r| r.correlation_id.map(|c| c.to_string()).as_deref() == Some(id))
        .map(|r| r.event_type)
        .collect();
    // In enqueue order: the payment that completes the order queues behind its OrderPaid, so
    // the invoice goes first (they share the order's record group).
    assert_eq!(
        events,
        vec!["OrderCreated", "PaymentAdded", "OrderPaid", "PaymentAdded"]
    );
    assert_eq!(paid["sync"][0]["state"], "Pending");
    assert_eq!(paid["sync"][0]["provider"], "QuickBooks");
}

async fn lists_are_paged(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    for _ in 0..5 {
        order(&app, &f, &f.customer, &[(&f.widget, 1)], 0).await;
    }
    let (_, first) = app
        .get_json(&f.admin, "/api/v1/orders?page=1&per_page=2")
        .await;
    let (_, page) = app
        .get_json(&f.admin, "/api/v1/orders?page=2&per_page=2")
        .await;
    let total = first["total"].as_i64().expect("total");
    assert!(total >= 5);
    let meta = (
        page["page"].as_i64(),
        page["per_page"].as_i64(),
        page["total"].as_i64(),
    );
    assert_eq!(meta, (Some(2), Some(2), Some(total)));
    let numbers = |p: &Value| -> Vec<i64> {
        p["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|o| o["order_number"].as_i64())
            .collect()
    };
    let newest = numbers(&first)[0];
    assert_eq!(numbers(&first), vec![newest, newest - 1], "newest first");
    assert_eq!(numbers(&page), vec![newest - 2, newest - 3]);
    assert_eq!(app.get_json(&f.admin, "/api/v1/orders?page=x").await.0, 400);
}
