//! QuickBooks books that reconcile (issue 12): payments recorded here reach QuickBooks applied to
//! their order's invoice, exactly once, on the one-by-one and the batch paths; none while payment
//! sync is off; and QuickBooks' copies of our payments are not taken for new ones.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

use crate::both_backends;
use crate::helpers::*;
use crate::quickbooks::{qbo_app, Qbo, REALM};

both_backends!(
    payments_made_here_close_the_invoice_exactly_once,
    payments_stay_here_while_payment_sync_is_off,
    paid_orders_of_one_pass_post_their_payments_in_one_batch_through_lost_answers,
    what_quickbooks_would_refuse_is_refused_here_with_the_field_named,
    an_invoiced_order_s_changes_follow_its_invoice_until_a_payment_is_applied,
    the_sandbox_notifies_only_connected_companies_of_later_changes,
    payments_are_deposited_to_the_account_the_settings_name
);

/// The order's payments in QuickBooks: (amount in cents, invoice id, deposit account, note).
async fn qbo_payments(q: &Qbo) -> Vec<(i64, String, String, String)> {
    let found = q.query("select * from Payment maxresults 1000").await;
    found["Payment"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                (p["TotalAmt"].as_f64().expect("TotalAmt") * 100.0).round() as i64,
                p["Line"][0]["LinkedTxn"][0]["TxnId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["DepositToAccountRef"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["PrivateNote"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Processes the inbox until `want` Payment events are Skipped (or time runs out); how many are.
async fn skipped_payments(q: &Qbo, want: usize) -> usize {
    let mut skipped = 0;
    for _ in 0..200 {
        q.qb().process_inbox_once(100).await.expect("inbox");
        let rows = erp_bridge::server::store::inbox::list(&q.app.state.db, q.tenant, 50)
            .await
            .expect("inbox");
        skipped = rows
            .iter()
            .filter(|r| r.entity_type.as_deref() == Some("Payment") && r.status == "Skipped")
            .count();
        if skipped >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    skipped
}

pub(crate) async fn invoice_balance(q: &Qbo, invoice: &str) -> i64 {
    let found = q
        .query(&format!("select * from Invoice where Id = '{invoice}'"))
        .await;
    (found["Invoice"][0]["Balance"].as_f64().expect("Balance") * 100.0).round() as i64
}

/// A part payment before the invoice and the rest when the order is marked paid: QuickBooks
/// ends with one invoice, two payments applied to it and a zero balance — no more after a
/// re-send of the invoice and of each payment, and the webhooks of our own payments record
/// nothing a second time.
async fn payments_made_here_close_the_invoice_exactly_once(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    let order = q.order(&admin, 300).await;
    let id = order["id"].as_str().expect("id").to_string();
    let total = order["total"].as_i64().expect("total");
    let part = total / 3;
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/v1/orders/{id}/payments"),
            json!({ "amount": part, "method": "Card", "reference": "a card payment with a long reference" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let part_id = body["payments"][0]["id"]
        .as_str()
        .expect("the payment")
        .to_string();
    q.drain().await;
    assert!(
        q.mapping("Order", &id).await.is_none(),
        "no invoice before the order is paid"
    );
    assert!(
        qbo_payments(&q).await.is_empty(),
        "the part payment waits for the invoice"
    );
    let waiting = q
        .rows()
        .await
        .into_iter()
        .find(|r| r.event_type == "PaymentAdded" && r.entity_id == part_id)
        .expect("the part payment's row");
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("with the order's invoice")),
        "{:?}",
        waiting.last_error
    );

    q.mark_paid(&admin, &id).await;
    q.drain().await;
    let invoice = q.mapping("Order", &id).await.expect("invoiced").external_id;
    let posted = qbo_payments(&q).await;
    let mut amounts: Vec<i64> = posted.iter().map(|p| p.0).collect();
    amounts.sort();
    let mut expected = vec![part, total - part];
    expected.sort();
    assert_eq!(amounts, expected, "both payments, each once: {posted:?}");
    assert!(
        posted.iter().all(|p| p.1 == invoice),
        "applied to the order's invoice"
    );
    assert_eq!(
        invoice_balance(&q, &invoice).await,
        0,
        "the invoice is closed"
    );
    let udf = q
        .query("select * from Account where AccountSubType = 'UndepositedFunds'")
        .await;
    let udf = udf["Account"][0]["Id"]
        .as_str()
        .expect("Undeposited Funds")
        .to_string();
    assert!(
        posted.iter().all(|p| p.2 == udf),
        "deposited to Undeposited Funds"
    );
    assert!(
        posted
            .iter()
            .any(|p| p.3.contains("a card payment with a long reference")),
        "a reference too long for PaymentRefNum is kept in the note"
    );
    let (_, o) = q
        .app
        .get_json(&admin, &format!("/api/v1/orders/{id}"))
        .await;
    for p in o["payments"].as_array().expect("payments") {
        let ours = p["id"].as_str().expect("payment id");
        assert!(
            q.mapping("Payment", ours).await.is_some(),
            "payment {ours} is mapped"
        );
    }

    // Re-sends: the invoice (a manual sync) and every payment row (retried by hand) post nothing
    // new.
    q.manual_sync(
        &admin,
        json!({ "entity_type": "Order", "entity_ids": [id.clone()] }),
    )
    .await;
    let ours: Vec<String> = o["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_string())
        .collect();
    for row in q
        .rows()
        .await
        .into_iter()
        .filter(|r| ours.contains(&r.entity_id))
    {
        let (status, body) = q
            .app
            .send_json(
                &admin,
                Method::POST,
                &format!("/api/integrations/outbox/{}/retry", row.id),
                json!({}),
            )
            .await;
        assert!(status == 200 || status == 409, "{status} {body}");
    }
    q.drain().await;
    assert_eq!(qbo_payments(&q).await.len(), 2, "no payment posted twice");
    assert_eq!(invoice_balance(&q, &invoice).await, 0);

    // The webhooks of our own payments come back and are recognised.
    assert_eq!(
        skipped_payments(&q, 2).await,
        2,
        "both of our payments came back and were skipped"
    );
    let (_, o) = q
        .app
        .get_json(&admin, &format!("/api/v1/orders/{id}"))
        .await;
    assert_eq!(
        o["payments"].as_array().expect("payments").len(),
        2,
        "nothing recorded twice"
    );
    assert_eq!(o["amount_paid"], o["total"]);
}

/// "Sync payments" off: the invoice goes out, its payments do not (the invoice stays open for
/// the bookkeeper), and a QuickBooks payment still comes back.
async fn payments_stay_here_while_payment_sync_is_off(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::PUT,
            "/api/integrations/connections/quickbooks/settings",
            json!({ "sync_payments": false }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let order = q.order(&admin, 300).await;
    let id = order["id"].as_str().expect("id");
    let total = order["total"].as_i64().expect("total");
    q.mark_paid(&admin, id).await;
    q.drain().await;
    let invoice = q.mapping("Order", id).await.expect("invoiced").external_id;
    assert!(qbo_payments(&q).await.is_empty(), "no payment sent");
    assert_eq!(
        invoice_balance(&q, &invoice).await,
        total,
        "the invoice stays open"
    );
    // The bookkeeper closes it in QuickBooks; that payment is QuickBooks' side of ours.
    q.pay_invoice(&invoice, total).await;
    assert_eq!(
        skipped_payments(&q, 1).await,
        1,
        "the QuickBooks payment was looked at and skipped"
    );
    let (_, o) = q
        .app
        .get_json(&admin, &format!("/api/v1/orders/{id}"))
        .await;
    assert_eq!(
        o["payments"].as_array().expect("payments").len(),
        1,
        "only the payment taken here"
    );
    assert_eq!(o["amount_paid"], o["total"]);
}

/// Four orders paid at once go out on the batch path: one batch call for their invoices, one for
/// their payments. QuickBooks commits both batches, withholds both answers and ignores
/// `requestid`; the look-ups after each find what was committed, so each order ends with one
/// invoice and one payment applied to it, balance zero.
async fn paid_orders_of_one_pass_post_their_payments_in_one_batch_through_lost_answers(
    backend: Backend,
) {
    let q = qbo_app(backend, |_, s| {
        s.request_timeout = Duration::from_millis(1500)
    })
    .await;
    q.connect().await;
    let admin = q.admin().await;
    // The customer and the items exist first, so the pass's only writes are the two batches.
    let (_, first_invoice) = q.invoiced_order(&admin).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let order = q.order(&admin, 500).await;
        ids.push(order["id"].as_str().expect("id").to_string());
    }
    for id in &ids {
        q.mark_paid(&admin, id).await;
    }
    let batches_before = q.stats().await["batch_calls"]
        .as_i64()
        .expect("batch_calls");
    q.faults(json!({ "commit_then_timeout": 2, "hang_ms": 3000, "ignore_request_id": true }))
        .await;
    q.drain().await;
    let stats = q.stats().await;
    assert_eq!(
        stats["withheld_answers"], 2,
        "both batch answers were lost: {stats}"
    );
    assert!(
        stats["batch_calls"].as_i64().expect("batch_calls") - batches_before >= 2,
        "invoices and payments went out by batch: {stats}"
    );

    let posted = qbo_payments(&q).await;
    assert_eq!(posted.len(), ids.len(), "one payment per order: {posted:?}");
    for id in &ids {
        let invoice = q.mapping("Order", id).await.expect("invoiced").external_id;
        assert_ne!(invoice, first_invoice);
        assert_eq!(
            posted.iter().filter(|p| p.1 == invoice).count(),
            1,
            "one payment applied to the invoice of {id}: {posted:?}"
        );
        assert_eq!(
            invoice_balance(&q, &invoice).await,
            0,
            "order {id} is settled"
        );
        let (_, o) = q
            .app
            .get_json(&admin, &format!("/api/v1/orders/{id}"))
            .await;
        let payment = o["payments"][0]["id"].as_str().expect("payment id");
        assert!(
            q.mapping("Payment", payment).await.is_some(),
            "payment of {id} mapped"
        );
    }
    assert_eq!(
        invoice_balance(&q, &first_invoice).await,
        q.query(&format!(
            "select * from Invoice where Id = '{first_invoice}'"
        ))
        .await["Invoice"][0]["TotalAmt"]
            .as_f64()
            .map(|t| (t * 100.0).round() as i64)
            .expect("TotalAmt"),
        "the unpaid order's invoice stays open"
    );
}

/// The company's Preferences through the API, as any client reads them.
async fn preferences(q: &Qbo) -> Value {
    let token = q.token().await;
    let v: Value = reqwest::Client::new()
        .get(format!(
            "{}/v3/company/{REALM}/preferences?minorversion=75",
            q.sandbox_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("preferences")
        .json()
        .await
        .expect("json");
    v["Preferences"].clone()
}

/// Worker passes until a pass changes nothing (a permanent refusal stays Failed and holds its
/// record's later events, so `Qbo::drain` would wait for them forever).
pub(crate) async fn settle(q: &Qbo) {
    let statuses = || async {
        q.rows()
            .await
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect::<Vec<_>>()
    };
    let mut before = statuses().await;
    for _ in 0..50 {
        q.pass().await;
        let after = statuses().await;
        if after == before && after.iter().all(|(_, s)| s != "Processing") {
            return;
        }
        before = after;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the outbox did not settle: {:?}",
        q.rows()
            .await
            .iter()
            .map(|r| (&r.event_type, &r.status, &r.last_error))
            .collect::<Vec<_>>()
    );
}

/// The failed row of `event_type` for our record `id`, and its error.
async fn refusal(q: &Qbo, event_type: &str, id: &str) -> String {
    let row = q
        .rows()
        .await
        .into_iter()
        .find(|r| r.event_type == event_type && r.entity_id == id)
        .unwrap_or_else(|| panic!("a {event_type} row for {id}"));
    assert_eq!(row.status, "Failed", "{:?}", row.last_error);
    row.last_error.unwrap_or_default()
}

/// A paid order in `currency` (a product and a customer of its own).
async fn paid_order_in(q: &Qbo, admin: &reqwest::Client, currency: &str) -> Value {
    let order = crate::console::new_order(&q.app, admin, currency).await;
    q.mark_paid(admin, order["id"].as_str().expect("id")).await;
    order
}

/// Each thing QuickBooks would refuse — an order in a currency other than the company's home
/// currency, an invoice dated in a closed period, a customer name too long for CompanyName or
/// with a colon — fails here with the field named and nothing written to QuickBooks; the
/// sandbox refuses the same writes when they are sent to it anyway, as QuickBooks does.
async fn what_quickbooks_would_refuse_is_refused_here_with_the_field_named(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    // The accountant closes the books through today.
    let prefs = preferences(&q).await;
    assert_eq!(
        prefs["CurrencyPrefs"]["HomeCurrency"]["value"], "USD",
        "{prefs}"
    );
    assert!(
        prefs["AccountingInfoPrefs"].get("BookCloseDate").is_none(),
        "{prefs}"
    );
    let today = chrono::Utc::now().date_naive().to_string();
    let closed = q
        .qbo_write(
            "Preferences",
            json!({ "Id": prefs["Id"], "SyncToken": prefs["SyncToken"], "sparse": true,
                    "AccountingInfoPrefs": { "BookCloseDate": today } }),
        )
        .await;
    assert_eq!(
        closed["AccountingInfoPrefs"]["BookCloseDate"],
        today.as_str(),
        "{closed}"
    );

    let eur = paid_order_in(&q, &admin, "EUR").await;
    let usd = paid_order_in(&q, &admin, "USD").await;
    let long_name = "Very Long Trading Company Name ".repeat(4);
    let (status, long) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": long_name.trim() }),
        )
        .await;
    assert_eq!(status, 201, "{long}");
    let (status, colon) = q
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/customers",
            json!({ "name": "Acme: West" }),
        )
        .await;
    assert_eq!(status, 201, "{colon}");
    settle(&q).await;

    let why = refusal(&q, "OrderPaid", eur["id"].as_str().expect("id")).await;
    assert!(why.contains("EUR") && why.contains("USD"), "{why}");
    let why = refusal(&q, "OrderPaid", usd["id"].as_str().expect("id")).await;
    assert!(
        why.contains("closed through") && why.contains(&today),
        "{why}"
    );
    let why = refusal(&q, "CustomerCreated", long["id"].as_str().expect("id")).await;
    assert!(
        why.contains("CompanyName") && why.contains("at most 100"),
        "{why}"
    );
    let why = refusal(&q, "CustomerCreated", colon["id"].as_str().expect("id")).await;
    assert!(
        why.contains("DisplayName") && why.contains("colon"),
        "{why}"
    );
    for order in [&eur, &usd] {
        let n = order["order_number"].as_i64().expect("number");
        assert_eq!(
            q.count("Invoice", &format!("where DocNumber = '{n}'"))
                .await,
            0
        );
    }
    assert_eq!(
        q.count("Customer", "where DisplayName = 'Acme: West'")
            .await,
        0
    );
    let logs = q
        .app
        .get_json(
            &admin,
            "/api/integrations/logs?status=Failed&entity_type=Order",
        )
        .await
        .1;
    let entry = logs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|l| l["entity_id"] == eur["id"])
        .unwrap_or_else(|| panic!("the EUR order's log entry: {logs}"));
    let (_, detail) = q
        .app
        .get_json(
            &admin,
            &format!(
                "/api/integrations/logs/{}",
                entry["id"].as_str().expect("id")
            ),
        )
        .await;
    assert!(
        detail["response_payload"]
            .to_string()
            .contains("CurrencyRef"),
        "the log names the field: {detail}"
    );

    // The same writes sent anyway: the sandbox refuses them as QuickBooks does.
    let customer =
        q.query("select * from Customer maxresults 1").await["Customer"][0]["Id"].clone();
    let invoice = json!({ "CustomerRef": { "value": customer }, "TxnDate": today,
        "Line": [{ "DetailType": "SalesItemLineDetail", "Amount": 10.0,
                   "SalesItemLineDetail": { "ItemRef": { "value": "SHIPPING_ITEM_ID" } } }] });
    let refused = q.qbo_post("invoice?minorversion=75", invoice.clone()).await;
    assert!(
        refused.to_string().contains("Account Period Closed"),
        "{refused}"
    );
    let mut foreign = invoice.clone();
    foreign["TxnDate"] = json!("2099-01-01");
    foreign["CurrencyRef"] = json!({ "value": "EUR" });
    let refused = q.qbo_post("invoice?minorversion=75", foreign).await;
    assert!(refused.to_string().contains("multicurrency"), "{refused}");
}

/// The invoice as QuickBooks holds it.
pub(crate) async fn invoice_doc(q: &Qbo, invoice: &str) -> Value {
    q.query(&format!("select * from Invoice where Id = '{invoice}'"))
        .await["Invoice"][0]
        .clone()
}

/// The ids of the invoice's item lines.
fn item_line_ids(invoice: &Value) -> Vec<String> {
    invoice["Line"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["DetailType"] == "SalesItemLineDetail")
        .map(|l| l["Id"].as_str().expect("line id").to_string())
        .collect()
}

pub(crate) async fn patch_order(q: &Qbo, admin: &reqwest::Client, id: &str, change: Value) {
    let (status, body) = q
        .app
        .send_json(
            admin,
            Method::PATCH,
            &format!("/api/v1/orders/{id}"),
            change,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The last row of `event_type` for our record `id`: (status, last error).
async fn last_row(q: &Qbo, event_type: &str, id: &str) -> (String, String) {
    let row = q
        .rows()
        .await
        .into_iter()
        .rfind(|r| r.event_type == event_type && r.entity_id == id)
        .unwrap_or_else(|| panic!("a {event_type} row for {id}"));
    (row.status, row.last_error.unwrap_or_default())
}

/// An order invoiced on terms changes: new shipping replaces the invoice's lines (not appended,
/// line mappings rewritten to the new line ids); a status QuickBooks does not show sends
/// nothing; a cancellation voids the invoice. Once QuickBooks holds a payment on an invoice,
/// neither a change nor a cancellation touches it: the delivery fails with the reason.
async fn an_invoiced_order_s_changes_follow_its_invoice_until_a_payment_is_applied(
    backend: Backend,
) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    let (order, invoice) = q.invoiced_order(&admin).await;
    let id = order["id"].as_str().expect("id").to_string();
    let before = invoice_doc(&q, &invoice).await;
    let old_lines = item_line_ids(&before);
    assert_eq!(old_lines.len(), 2, "two items, no shipping yet: {before}");

    // New shipping: the lines are replaced, the total follows, the mappings too.
    patch_order(&q, &admin, &id, json!({ "shipping_amount": 750 })).await;
    q.drain().await;
    let after = invoice_doc(&q, &invoice).await;
    let new_lines = item_line_ids(&after);
    assert_eq!(
        new_lines.len(),
        3,
        "two items and shipping, not appended: {after}"
    );
    assert!(
        new_lines.iter().all(|l| !old_lines.contains(l)),
        "replaced lines have new ids: {old_lines:?} → {new_lines:?}"
    );
    let total = order["subtotal"].as_i64().expect("subtotal") + 750;
    assert_eq!(
        (after["TotalAmt"].as_f64().expect("total") * 100.0).round() as i64,
        total
    );
    assert_eq!(invoice_balance(&q, &invoice).await, total);
    for (n, item) in order["items"].as_array().expect("items").iter().enumerate() {
        let line = q
            .mapping("OrderLine", item["id"].as_str().expect("item id"))
            .await
            .expect("line mapping")
            .external_id;
        assert_eq!(
            line,
            format!("{invoice}:{}", new_lines[n]),
            "mapping rewritten"
        );
    }

    // A status QuickBooks does not show: nothing sent.
    patch_order(&q, &admin, &id, json!({ "status": "Fulfilled" })).await;
    q.drain().await;
    let (status, why) = last_row(&q, "OrderUpdated", &id).await;
    assert_eq!(status, "Completed", "{why}");
    assert!(why.contains("nothing QuickBooks shows"), "{why}");
    assert_eq!(
        invoice_doc(&q, &invoice).await["SyncToken"],
        after["SyncToken"]
    );

    // A second order cancelled before any payment: its invoice is voided, not deleted.
    let (other, other_invoice) = q.invoiced_order(&admin).await;
    let other_id = other["id"].as_str().expect("id");
    patch_order(&q, &admin, other_id, json!({ "status": "Cancelled" })).await;
    q.drain().await;
    let voided = invoice_doc(&q, &other_invoice).await;
    assert_eq!(voided["TotalAmt"].as_f64(), Some(0.0), "{voided}");
    assert!(
        voided["PrivateNote"]
            .as_str()
            .is_some_and(|n| n.starts_with("Voided")),
        "{voided}"
    );

    // The bookkeeper applies a payment in QuickBooks: the invoice is no longer ours to change.
    q.pay_invoice(&invoice, 1000).await;
    patch_order(&q, &admin, &id, json!({ "shipping_amount": 900 })).await;
    settle(&q).await;
    let (status, why) = last_row(&q, "OrderUpdated", &id).await;
    assert_eq!(status, "Failed", "{why}");
    assert!(why.contains("received a payment"), "{why}");
    assert_eq!(
        item_line_ids(&invoice_doc(&q, &invoice).await),
        new_lines,
        "unchanged"
    );
    // Nor is it voided when the order is cancelled (the newer event supersedes the failed one).
    patch_order(&q, &admin, &id, json!({ "status": "Cancelled" })).await;
    settle(&q).await;
    let (status, why) = last_row(&q, "OrderUpdated", &id).await;
    assert_eq!(status, "Failed", "{why}");
    assert!(why.contains("will not void"), "{why}");
    let kept = invoice_doc(&q, &invoice).await;
    assert!(
        kept["PrivateNote"]
            .as_str()
            .is_some_and(|n| !n.starts_with("Voided")),
        "{kept}"
    );
}

async fn webhooks_pending(q: &Qbo) -> i64 {
    q.stats().await["webhooks_pending"]
        .as_i64()
        .expect("webhooks_pending")
}

/// Intuit sends webhooks only for companies connected to the app, and only for changes made
/// after the connection (reference § 9): the sandbox queues none before the connection, and none
/// once the app has disconnected (its grant revoked).
async fn the_sandbox_notifies_only_connected_companies_of_later_changes(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    // Undeliverable, so whatever is queued stays countable.
    q.control(
        "/_sandbox/webhooks",
        json!({ "url": q.app.url("/api/integrations/quickbooks/webhook-that-is-not-there") }),
    )
    .await;
    q.qbo_write(
        "Customer",
        json!({ "DisplayName": "Before the connection" }),
    )
    .await;
    assert_eq!(
        webhooks_pending(&q).await,
        0,
        "not connected: nothing queued"
    );
    q.connect().await;
    q.qbo_write("Customer", json!({ "DisplayName": "After the connection" }))
        .await;
    let queued = webhooks_pending(&q).await;
    assert!(queued > 0, "connected: the change is queued");
    let admin = q.admin().await;
    let (status, body) = q
        .app
        .send_json(
            &admin,
            Method::DELETE,
            "/api/integrations/connections/quickbooks",
            json!({}),
        )
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    q.qbo_write("Customer", json!({ "DisplayName": "After the disconnect" }))
        .await;
    assert_eq!(
        webhooks_pending(&q).await,
        queued,
        "disconnected: nothing more"
    );
}

/// "Deposit payments to" names a bank account: our payments land there instead of Undeposited
/// Funds; a value that is not an account id is refused with the field named.
async fn payments_are_deposited_to_the_account_the_settings_name(backend: Backend) {
    let q = qbo_app(backend, |_, _| {}).await;
    q.connect().await;
    let admin = q.admin().await;
    let bank = q
        .qbo_write(
            "Account",
            json!({ "Name": "Operating Checking", "AccountType": "Bank" }),
        )
        .await;
    let bank_id = bank["Id"].as_str().expect("bank account").to_string();
    let settings = |v: Value| {
        let admin = admin.clone();
        let app = &q.app;
        async move {
            app.send_json(
                &admin,
                Method::PUT,
                "/api/integrations/connections/quickbooks/settings",
                v,
            )
            .await
        }
    };
    let (status, body) = settings(json!({ "deposit_account_id": "checking" })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Deposit account"), "{body}");
    let (status, body) = settings(json!({ "deposit_account_id": bank_id })).await;
    assert_eq!(status, 204, "{body}");
    let (_, card) = q
        .app
        .get_json(&admin, "/api/integrations/connections/quickbooks")
        .await;
    assert_eq!(
        card["settings"]["deposit_account_id"],
        bank_id.as_str(),
        "{card}"
    );

    let order = q.order(&admin, 0).await;
    let id = order["id"].as_str().expect("id");
    q.mark_paid(&admin, id).await;
    q.drain().await;
    let posted = qbo_payments(&q).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].2, bank_id, "deposited to the account named");

    // Cleared: back to QuickBooks' default.
    let (status, body) = settings(json!({ "deposit_account_id": "" })).await;
    assert_eq!(status, 204, "{body}");
    let order = q.order(&admin, 0).await;
    let id = order["id"].as_str().expect("id");
    q.mark_paid(&admin, id).await;
    q.drain().await;
    let udf = q
        .query("select * from Account where AccountSubType = 'UndepositedFunds'")
        .await;
    let udf = udf["Account"][0]["Id"].as_str().expect("Undeposited Funds");
    let posted = qbo_payments(&q).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert!(posted.iter().any(|p| p.2 == udf), "{posted:?}");
}
