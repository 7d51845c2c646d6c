//! The QuickBooks reconciliation report (issue 12) over real HTTP against the sandbox: each kind
//! of drift planted in QuickBooks (an edited total, a voided invoice, a duplicate made by hand),
//! and here (a paid order whose delivery was dismissed, a lost mapping), is found; re-send,
//! adopt and dismiss repair or settle each, audited, until the report is clean.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::*;
use crate::qbo_books::{invoice_doc, settle};
use crate::quickbooks::{qbo_app, Qbo, REALM};
use erp_bridge::server::store::mappings;

both_backends!(
    the_reconciliation_report_finds_each_drift_and_its_actions_settle_it,
    customers_drift_is_found_and_settled
);

async fn report(q: &Qbo, admin: &reqwest::Client) -> Value {
    let (status, r) = q
        .app
        .get_json(admin, "/api/integrations/quickbooks/reconciliation")
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

/// The rows of `kind` (the API's variant name) for our order `id` (or any order when None).
fn rows<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|x| x["kind"] == kind)
        .collect()
}

fn row_for<'a>(r: &'a Value, kind: &str, order: &str) -> &'a Value {
    rows(r, kind)
        .into_iter()
        .find(|x| x["order_id"] == order)
        .unwrap_or_else(|| panic!("a {kind} row for {order}: {r}"))
}

/// Runs `action` (Resend, Adopt, Dismiss) on a row, an order's or a customer's.
async fn act(q: &Qbo, admin: &reqwest::Client, row: &Value, action: &str) -> String {
    let body = if row["entity"] == "Customer" && action != "Dismiss" {
        json!({ "action": format!("{action}Customer"), "kind": row["kind"], "key": row["key"],
                "customer_id": row["customer_id"], "external_id": row["external_id"] })
    } else {
        json!({ "action": action, "kind": row["kind"], "key": row["key"],
                "order_id": row["order_id"], "external_id": row["external_id"] })
    };
    let (status, body) = q
        .app
        .send_json(
            admin,
            Method::POST,
            "/api/integrations/quickbooks/reconciliation/actions",
            body,
        )
        .await;
    assert_eq!(status, 200, "{action} {row}: {body}");
    body["message"].as_str().unwrap_or_default().to_string()
}

async fn the_reconciliation_report_finds_each_drift_and_its_actions_settle_it(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;

    // In step: paid, invoiced, payment applied.
    let fine = q.order(&admin, 0).await;
    let fine_id = fine["id"].as_str().expect("id").to_string();
    q.mark_paid(&admin, &fine_id).await;
    q.drain().await;
    let r = report(&q, &admin).await;
    assert!(
        r["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|x| x["order_id"] != fine_id.as_str()),
        "the order in step is not listed: {r}"
    );
    // The demo tenant's order paid before QuickBooks was connected was never invoiced: found.
    let before: Vec<Value> = r["rows"].as_array().expect("rows").clone();
    assert!(
        before.iter().all(|x| x["kind"] == "MissingThere"),
        "only paid orders from before the connection: {r}"
    );

    // Edited in QuickBooks: an invoice on terms whose first line someone changed there.
    let (edited, edited_inv) = q.invoiced_order(&admin).await;
    let edited_id = edited["id"].as_str().expect("id").to_string();
    let doc = invoice_doc(&q, &edited_inv).await;
    let mut lines = doc["Line"].as_array().expect("lines").clone();
    lines.retain(|l| l["DetailType"] == "SalesItemLineDetail");
    lines[0]["Amount"] = json!(1.0);
    lines[0]["SalesItemLineDetail"]["Qty"] = json!(1);
    lines[0]["SalesItemLineDetail"]["UnitPrice"] = json!(1.0);
    let changed = q.qbo_post(
        "invoice?minorversion=75",
        json!({ "Id": edited_inv, "SyncToken": doc["SyncToken"], "sparse": true, "Line": lines }),
    )
    .await;
    assert!(changed.get("Invoice").is_some(), "{changed}");

    // Voided in QuickBooks: another invoice on terms.
    let (voided, voided_inv) = q.invoiced_order(&admin).await;
    let voided_id = voided["id"].as_str().expect("id").to_string();
    let doc = invoice_doc(&q, &voided_inv).await;
    let void = q
        .qbo_post(
            "invoice?operation=void&minorversion=75",
            json!({ "Id": voided_inv, "SyncToken": doc["SyncToken"] }),
        )
        .await;
    assert!(void.get("Invoice").is_some(), "{void}");

    // A duplicate made by hand: the in-step order's number on a second invoice.
    let fine_inv = q
        .mapping("Order", &fine_id)
        .await
        .expect("invoiced")
        .external_id;
    let fine_doc = invoice_doc(&q, &fine_inv).await;
    let dup = q
        .qbo_write(
            "Invoice",
            json!({ "CustomerRef": fine_doc["CustomerRef"], "DocNumber": fine_doc["DocNumber"],
                    "Line": [{ "DetailType": "SalesItemLineDetail", "Amount": 5.0,
                               "SalesItemLineDetail": { "ItemRef": { "value": "SHIPPING_ITEM_ID" } } }] }),
        )
        .await;
    let dup_id = dup["Id"].as_str().expect("duplicate").to_string();

    // Missing there: a paid order whose delivery an Admin dismissed.
    let missing = q.order(&admin, 0).await;
    let missing_id = missing["id"].as_str().expect("id").to_string();
    q.mark_paid(&admin, &missing_id).await;
    for row in
        q.rows().await.into_iter().filter(|r| {
            r.entity_id == missing_id && matches!(r.status.as_str(), "Pending" | "Failed")
        })
    {
        let (status, body) = q
            .app
            .send_json(
                &admin,
                Method::POST,
                &format!("/api/integrations/outbox/{}/dismiss", row.id),
                json!({ "reason": "not now" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    // Unmapped: invoiced and paid, then its mapping lost here.
    let lost = q.order(&admin, 0).await;
    let lost_id = lost["id"].as_str().expect("id").to_string();
    q.mark_paid(&admin, &lost_id).await;
    q.drain().await;
    let lost_inv = q
        .mapping("Order", &lost_id)
        .await
        .expect("invoiced")
        .external_id;
    let scope = mappings::Scope {
        tenant_id: q.tenant,
        provider: "QuickBooks",
        external_company_id: REALM,
        entity_type: "Order",
    };
    assert!(mappings::forget(&q.app.state.db, scope, &lost_id)
        .await
        .expect("forget"));

    let r = report(&q, &admin).await;
    assert!(
        r["calls"].as_i64().expect("calls") <= 3,
        "one page of invoices, one invoice id look-up and one customer look-up at most: {r}"
    );
    assert_eq!(
        row_for(&r, "TotalDiffers", &edited_id)["external_id"],
        edited_inv.as_str()
    );
    assert_eq!(
        row_for(&r, "VoidedThere", &voided_id)["external_id"],
        voided_inv.as_str()
    );
    row_for(&r, "MissingThere", &missing_id);
    assert_eq!(
        row_for(&r, "Unmapped", &lost_id)["external_id"],
        lost_inv.as_str()
    );
    let dup_row = rows(&r, "DuplicateDocNumber")
        .into_iter()
        .find(|x| x["external_id"] == dup_id.as_str())
        .unwrap_or_else(|| panic!("the duplicate: {r}"))
        .clone();
    assert!(
        r["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|x| x["order_id"] != fine_id.as_str() || x["kind"] == "DuplicateDocNumber"),
        "the order in step is not listed: {r}"
    );
    // The CSV says the same.
    let csv = admin
        .get(q.app.url("/api/integrations/quickbooks/reconciliation.csv"))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    for code in [
        "total_differs",
        "voided_there",
        "missing_there",
        "unmapped",
        "duplicate_doc_number",
    ] {
        assert!(csv.contains(code), "{code} in {csv}");
    }

    // The actions.
    act(
        &q,
        &admin,
        row_for(&r, "TotalDiffers", &edited_id),
        "Resend",
    )
    .await;
    act(
        &q,
        &admin,
        row_for(&r, "MissingThere", &missing_id),
        "Resend",
    )
    .await;
    act(&q, &admin, row_for(&r, "Unmapped", &lost_id), "Adopt").await;
    act(
        &q,
        &admin,
        row_for(&r, "VoidedThere", &voided_id),
        "Dismiss",
    )
    .await;
    act(&q, &admin, &dup_row, "Dismiss").await;
    for row in &before {
        act(&q, &admin, row, "Resend").await;
    }
    settle(&q).await;
    assert_eq!(
        q.mapping("Order", &lost_id)
            .await
            .expect("adopted")
            .external_id,
        lost_inv
    );
    let after = report(&q, &admin).await;
    assert_eq!(after["rows"], json!([]), "in step, or settled: {after}");
    assert_eq!(after["dismissed"], 2, "{after}");
    let n = q
        .count(
            "Invoice",
            &format!("where DocNumber = '{}'", missing["order_number"]),
        )
        .await;
    assert_eq!(n, 1, "the missing order was invoiced once");

    // Each action is audited; adopting an invoice of another order is refused.
    let db = &q.app.state.db;
    let audited: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'reconciliation.%'")
        .fetch_one(p).await)
    .expect("audit");
    assert_eq!(audited, 5 + before.len() as i64);
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/quickbooks/reconciliation/actions",
            json!({ "action": "Adopt", "kind": "Unmapped", "key": "x", "order_id": fine_id, "external_id": lost_inv }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

/// The customer row of `kind` for our customer `id`.
fn customer_row<'a>(r: &'a Value, kind: &str, id: &str) -> &'a Value {
    rows(r, kind)
        .into_iter()
        .find(|x| x["customer_id"] == id)
        .unwrap_or_else(|| panic!("a {kind} row for customer {id}: {r}"))
}

async fn sync_customers(q: &Qbo, admin: &reqwest::Client, on: bool) {
    let (status, body) = q
        .app
        .send_json(
            admin,
            Method::PUT,
            "/api/integrations/connections/quickbooks/settings",
            json!({ "sync_customers": on }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn new_customer(q: &Qbo, admin: &reqwest::Client, name: &str) -> String {
    let (status, c) = q
        .app
        .send_json(
            admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": name, "email": format!("ap@{}.example", name.len()) }),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().expect("id").to_string()
}

async fn customers_drift_is_found_and_settled(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    // Sent and mapped; then changed in QuickBooks by hand.
    let renamed = new_customer(&q, &admin, "Renamed Buyer Ltd").await;
    let inactive = new_customer(&q, &admin, "Inactive Buyer Ltd").await;
    let merged = new_customer(&q, &admin, "Merged Buyer Ltd").await;
    settle(&q).await;
    let qr = &q;
    let their = |id: String| async move {
        let m = qr.mapping("Customer", &id).await.expect("sent and mapped");
        let doc = qr
            .query(&format!(
                "select * from Customer where Active in (true, false) and Id = '{}'",
                m.external_id
            ))
            .await;
        doc["Customer"][0].clone()
    };
    let doc = their(renamed.clone()).await;
    let done = q
        .qbo_write("Customer", json!({ "Id": doc["Id"], "SyncToken": doc["SyncToken"], "sparse": true, "DisplayName": "Typed Over By Hand" }))
        .await;
    assert_eq!(done["DisplayName"], "Typed Over By Hand", "{done}");
    let doc = their(inactive.clone()).await;
    let done = q
        .qbo_write("Customer", json!({ "Id": doc["Id"], "SyncToken": doc["SyncToken"], "sparse": true, "Active": false }))
        .await;
    assert_eq!(done["Active"], false, "{done}");
    // "Merged" away there: its mapping names a customer QuickBooks does not have.
    let scope = mappings::Scope {
        tenant_id: q.tenant,
        provider: "QuickBooks",
        external_company_id: REALM,
        entity_type: "Customer",
    };
    let mut gone = q.mapping("Customer", &merged).await.expect("mapped");
    gone.external_id = "999999".into();
    mappings::upsert(&q.app.state.db, scope, &gone, chrono::Utc::now())
        .await
        .expect("plant");
    // Made while customers were not synced, and typed into QuickBooks by hand meanwhile.
    sync_customers(&q, &admin, false).await;
    let typed = new_customer(&q, &admin, "Typed Twice Ltd").await;
    settle(&q).await;
    let by_hand = q
        .qbo_write(
            "Customer",
            json!({ "DisplayName": "Typed Twice Ltd", "CompanyName": "Typed Twice Ltd",
                "PrimaryEmailAddr": { "Address": "ap@15.example" } }),
        )
        .await;
    let by_hand_id = by_hand["Id"].as_str().expect("id").to_string();
    sync_customers(&q, &admin, true).await;

    let r = report(&q, &admin).await;
    assert!(r["customers_checked"].as_i64().unwrap_or(0) >= 4, "{r}");
    let details = customer_row(&r, "DetailsDiffer", &renamed).clone();
    assert_eq!(details["entity"], "Customer");
    assert!(
        details["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Typed Over By Hand"),
        "says what differs: {details}"
    );
    let off = customer_row(&r, "InactiveThere", &inactive).clone();
    let missing = customer_row(&r, "MissingThere", &merged).clone();
    let unmapped = customer_row(&r, "Unmapped", &typed).clone();
    assert_eq!(unmapped["external_id"], by_hand_id.as_str());
    let csv = admin
        .get(q.app.url("/api/integrations/quickbooks/reconciliation.csv"))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    for code in ["details_differ", "inactive_there", "Customer"] {
        assert!(csv.contains(code), "{code} in {csv}");
    }

    // The actions: ours written back, the link re-made, the typed one adopted, the inactive
    // one dismissed.
    act(&q, &admin, &details, "Resend").await;
    act(&q, &admin, &missing, "Resend").await;
    act(&q, &admin, &unmapped, "Adopt").await;
    act(&q, &admin, &off, "Dismiss").await;
    // Whatever else the demo tenant holds (customers from before the connection) is sent too.
    for row in rows(&report(&q, &admin).await, "MissingThere") {
        act(&q, &admin, row, "Resend").await;
    }
    settle(&q).await;
    assert_eq!(
        their(renamed.clone()).await["DisplayName"],
        "Renamed Buyer Ltd"
    );
    let relinked = q.mapping("Customer", &merged).await.expect("mapped again");
    assert_ne!(relinked.external_id, "999999");
    assert_eq!(
        q.count("Customer", "where DisplayName = 'Merged Buyer Ltd'")
            .await,
        1,
        "re-sending adopted the existing customer instead of making a second"
    );
    assert_eq!(
        q.mapping("Customer", &typed)
            .await
            .expect("adopted")
            .external_id,
        by_hand_id
    );
    let after = report(&q, &admin).await;
    assert_eq!(after["rows"], json!([]), "in step, or settled: {after}");
    assert_eq!(after["dismissed"], 1, "{after}");

    // Adopting a customer named otherwise is refused; each action was audited.
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/quickbooks/reconciliation/actions",
            json!({ "action": "AdoptCustomer", "kind": "Unmapped", "key": "x", "customer_id": renamed, "external_id": by_hand_id }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let db = &q.app.state.db;
    let audited: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'reconciliation.%' AND entity_type = 'Customer'")
        .fetch_one(p).await)
    .expect("audit");
    assert!(audited >= 4, "{audited}");
}
