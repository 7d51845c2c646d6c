//! What happens to a sales order after it reaches NetSuite, so the connector's inbound pull
//! meets what a real account shows (reference § "Payments"):
//!
//! - **billing**: an invoice made from a sales order — NetSuite's transform
//!   (`POST …/salesOrder/{id}/!transform/invoice`) and the sandbox page's *Bill* button. The
//!   invoice copies the order's customer, lines and shipping; its `createdFrom` names the order,
//!   whose status becomes *Billed*;
//! - **payments**: a customer payment applied to an invoice — the page's *Record payment* form.
//!   Its `apply` sublist names the invoice and the amount; the invoice's `amountRemaining` falls
//!   and it is *Paid In Full* at zero.
//!
//! Every change sets `lastmodifieddate`, which SuiteQL filters on. Refusal wordings are
//! UNCONFIRMED; the refusals (billing an order twice, paying more than is due) are NetSuite's.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::fault::Fail;
use super::store::{self, Record, RecordKey};

/// A sales order's statuses (`status.id` as the record API shows it, `status` in SuiteQL).
pub mod status {
    /// Pending Fulfillment: what a new sales order is.
    pub const PENDING_FULFILLMENT: (&str, &str) = ("B", "Pending Fulfillment");
    /// Billed: an invoice was made from it.
    pub const BILLED: (&str, &str) = ("G", "Billed");
    /// An invoice with something left to pay.
    pub const OPEN: (&str, &str) = ("A", "Open");
    /// An invoice paid in full.
    pub const PAID_IN_FULL: (&str, &str) = ("B", "Paid In Full");
}

fn status_value((id, name): (&str, &str)) -> Value {
    json!({ "id": id, "refName": name })
}

fn money(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn reference(target: &str, id: i64, name: &str) -> Value {
    json!({ "id": id.to_string(), "refName": name, "type": target })
}

/// Makes the invoice of sales order `order_id`; the invoice.
pub async fn bill(
    c: &mut SqliteConnection,
    account: &str,
    order_id: i64,
    now: DateTime<Utc>,
) -> Result<Record, Fail> {
    let mut order = store::record(c, account, "salesOrder", &RecordKey::Id(order_id))
        .await?
        .ok_or(Fail::NonexistentId)?;
    let status = order.doc["status"]["id"].as_str().unwrap_or_default();
    if status != status::PENDING_FULFILLMENT.0 {
        return Err(Fail::UserError(format!(
            "The sales order cannot be billed: its status is {}.",
            order.doc["status"]["refName"].as_str().unwrap_or(status)
        )));
    }
    let id = store::next_id(c, account).await?;
    let total = order.doc["total"].as_f64().unwrap_or(0.0);
    let tran_id = order.doc["tranId"].as_str().unwrap_or_default().to_string();
    let mut doc = json!({
        "dateCreated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "tranId": format!("INV{id}"),
        "tranDate": now.format("%Y-%m-%d").to_string(),
        "createdFrom": reference("salesOrder", order_id, &format!("Sales Order #{tran_id}")),
        "total": total,
        "amountPaid": 0.0,
        "amountRemaining": total,
        "status": status_value(status::OPEN),
    });
    for copied in [
        "entity",
        "currency",
        "subsidiary",
        "otherRefNum",
        "memo",
        "shippingCost",
        "subtotal",
        "item",
    ] {
        if let Some(v) = order.doc.get(copied) {
            doc[copied] = v.clone();
        }
    }
    let invoice = Record {
        id,
        external_id: None,
        doc,
        last_modified: now,
    };
    store::save(c, account, "invoice", &invoice).await?;
    order.doc["status"] = status_value(status::BILLED);
    order.last_modified = now;
    store::save(c, account, "salesOrder", &order).await?;
    Ok(invoice)
}

/// Records a customer payment of `amount` (in the invoice's currency) applied to invoice
/// `invoice_id`; the payment.
pub async fn pay(
    c: &mut SqliteConnection,
    account: &str,
    invoice_id: i64,
    amount: f64,
    now: DateTime<Utc>,
) -> Result<Record, Fail> {
    let mut invoice = store::record(c, account, "invoice", &RecordKey::Id(invoice_id))
        .await?
        .ok_or(Fail::NonexistentId)?;
    let amount = money(amount);
    let remaining = invoice.doc["amountRemaining"].as_f64().unwrap_or(0.0);
    if amount.is_nan() || amount <= 0.0 {
        return Err(Fail::InvalidContent {
            detail: "Please enter a payment amount greater than zero.".into(),
            path: "payment".into(),
        });
    }
    if amount > remaining + 0.001 {
        return Err(Fail::UserError(format!(
            "The amount applied ({amount:.2}) exceeds the amount due on the invoice ({remaining:.2})."
        )));
    }
    let id = store::next_id(c, account).await?;
    let invoice_name = format!(
        "Invoice #{}",
        invoice.doc["tranId"].as_str().unwrap_or_default()
    );
    let mut doc = json!({
        "dateCreated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "tranId": format!("PYMT{id}"),
        "tranDate": now.format("%Y-%m-%d").to_string(),
        "payment": amount,
        "total": amount,
        "applied": amount,
        "unapplied": 0.0,
        "apply": [{
            "line": 1,
            "apply": true,
            "doc": reference("invoice", invoice_id, &invoice_name),
            "type": "Invoice",
            "refNum": invoice.doc["tranId"],
            "total": invoice.doc["total"],
            "due": remaining,
            "amount": amount,
        }],
    });
    if let Some(customer) = invoice.doc.get("entity") {
        doc["customer"] = customer.clone();
    }
    for copied in ["currency", "subsidiary"] {
        if let Some(v) = invoice.doc.get(copied) {
            doc[copied] = v.clone();
        }
    }
    let payment = Record {
        id,
        external_id: None,
        doc,
        last_modified: now,
    };
    store::save(c, account, "customerPayment", &payment).await?;
    let left = money(remaining - amount);
    let paid = money(invoice.doc["amountPaid"].as_f64().unwrap_or(0.0) + amount);
    invoice.doc["amountRemaining"] = json!(left);
    invoice.doc["amountPaid"] = json!(paid);
    if left <= 0.0 {
        invoice.doc["status"] = status_value(status::PAID_IN_FULL);
    }
    invoice.last_modified = now;
    store::save(c, account, "invoice", &invoice).await?;
    Ok(payment)
}

/// The page's and the tests' way in: `POST /_sandbox/accounts/{account}/sales-orders/{id}/bill`
/// and `…/invoices/{id}/payments` (form field `amount`, in the invoice's currency). A browser is
/// sent back to the page; a caller that accepts JSON gets `{"id": …}` of the new record.
pub mod routes {
    use axum::extract::{Form, Path, State};
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Redirect, Response};
    use axum::Json;
    use serde::Deserialize;
    use serde_json::json;

    use super::super::fault::Fail;
    use super::super::store::Record;
    use super::super::Sandbox;

    fn done(headers: &HeaderMap, r: Result<Record, Fail>) -> Response {
        let json = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        match (r, json) {
            (Ok(r), true) => {
                (StatusCode::CREATED, Json(json!({ "id": r.id.to_string() }))).into_response()
            }
            (Ok(_), false) => Redirect::to("/").into_response(),
            (Err(f), _) => f.into_response(),
        }
    }

    /// Bills a sales order.
    pub async fn bill(
        State(s): State<Sandbox>,
        Path((account, id)): Path<(String, i64)>,
        headers: HeaderMap,
    ) -> Response {
        let r = async {
            let mut tx = s.inner.db.begin().await?;
            let invoice = super::bill(&mut tx, &account, id, super::super::now()).await?;
            tx.commit().await?;
            Ok(invoice)
        };
        done(&headers, r.await)
    }

    #[derive(Deserialize)]
    pub struct PaymentForm {
        amount: String,
    }

    /// Records a customer payment applied to an invoice.
    pub async fn pay(
        State(s): State<Sandbox>,
        Path((account, id)): Path<(String, i64)>,
        headers: HeaderMap,
        Form(f): Form<PaymentForm>,
    ) -> Response {
        let r = async {
            let amount: f64 = f.amount.trim().parse().map_err(|_| Fail::InvalidContent {
                detail: format!("{} is not an amount.", f.amount.trim()),
                path: "payment".into(),
            })?;
            let mut tx = s.inner.db.begin().await?;
            let payment = super::pay(&mut tx, &account, id, amount, super::super::now()).await?;
            tx.commit().await?;
            Ok(payment)
        };
        done(&headers, r.await)
    }
}
