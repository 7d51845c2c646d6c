//! Payments out (issue 12): each payment recorded here becomes a QuickBooks Payment applied to
//! the order's invoice (`LinkedTxn`), so the invoice's Balance is what the customer still owes.
//!
//! When: QuickBooks receives an invoice once the order is paid in full, so payments go out with
//! it — the invoice delivery posts every payment of the order that QuickBooks does not have yet
//! (partial payments made before it included). A `PaymentAdded` event whose invoice exists posts
//! its payment if that has not happened; before the invoice it is skipped, since the invoice will
//! carry it. Payments that came from an ERP are never sent back, and none go out while the
//! connection's "sync payments" setting is off.
//!
//! Exactly once: a payment is mapped (`Payment` → QuickBooks id) as soon as QuickBooks has it;
//! before creating, an invoice that existed before this delivery has its customer's payments
//! looked up by our PrivateNote marker (a `requestid` alone is not trusted: reference § 2); a
//! create whose answer was lost is looked up again before any retry. The deposit account is left
//! to QuickBooks, whose default is the company's Undeposited Funds (reference § 3: Payment).

use serde_json::{json, Value};
use uuid::Uuid;

use super::{decimal, quote, Call};
use crate::domain::commerce::{Order, Payment};
use crate::server::erp::{Delivered, DeliveryError};
use crate::server::store::connections;

/// How the PrivateNote of every payment we post begins.
pub const MARKER_PREFIX: &str = "erp-bridge payment ";

/// The PrivateNote marker that identifies our payment in QuickBooks.
pub fn payment_marker(payment_id: Uuid) -> String {
    format!("{MARKER_PREFIX}{payment_id}")
}

/// QuickBooks' limit on PaymentRefNum.
const REF_NUM_MAX: usize = 21;

/// Whether payments are to be sent at all: the connection's "sync payments" setting.
async fn payments_on(call: &Call<'_>) -> Result<bool, DeliveryError> {
    let settings = connections::settings(&call.qb.db, call.tenant_id, super::PROVIDER)
        .await
        .map_err(|e| {
            DeliveryError::retryable(format!("reading the connection's settings failed: {e}"))
        })?;
    Ok(settings.is_some_and(|s| s.sync_payments))
}

/// Payments recorded here (never those an ERP told us of), of a positive amount.
fn ours(payments: &[Payment]) -> impl Iterator<Item = &Payment> {
    payments
        .iter()
        .filter(|p| p.origin == "Local" && p.amount > 0)
}

/// The create body of `p` applied to `invoice_id`.
fn payment_body(p: &Payment, invoice_id: &str, customer_ref: &str, order_number: i64) -> Value {
    let note = format!("{} · order {order_number}", payment_marker(p.id));
    let mut body = json!({
        "CustomerRef": { "value": customer_ref },
        "TotalAmt": decimal(p.amount),
        "TxnDate": p.received_at.format("%Y-%m-%d").to_string(),
        "PrivateNote": note,
        "Line": [{
            "Amount": decimal(p.amount),
            "LinkedTxn": [{ "TxnId": invoice_id, "TxnType": "Invoice" }],
        }],
    });
    if let Some(r) = p
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if r.chars().count() <= REF_NUM_MAX {
            body["PaymentRefNum"] = json!(r);
        } else {
            // Too long for PaymentRefNum: kept whole in the note instead of cut.
            body["PrivateNote"] = json!(format!(
                "{} · reference {r}",
                body["PrivateNote"].as_str().unwrap_or_default()
            ));
        }
    }
    body
}

/// The customer's payments in QuickBooks that carry one of our markers, by marker.
async fn posted(call: &Call<'_>, customer_ref: &str) -> Result<Vec<Value>, DeliveryError> {
    let stmt = format!(
        "select * from Payment where CustomerRef = {} maxresults 1000",
        quote(customer_ref)
    );
    call.query_one("Payment", &stmt).await
}

fn find<'a>(found: &'a [Value], p: &Payment) -> Option<&'a Value> {
    let marker = payment_marker(p.id);
    found.iter().find(|v| {
        v["PrivateNote"]
            .as_str()
            .is_some_and(|n| n.starts_with(&marker))
    })
}

/// Posts the payments of `order` that QuickBooks does not have yet, each applied to
/// `invoice_id`. `fresh`: the invoice was created by this delivery, so none can be there yet and
/// the look-up is spared. Returns how many were posted or adopted.
pub(super) async fn post_for_invoice(
    call: &Call<'_>,
    order: &Order,
    invoice_id: &str,
    customer_ref: &str,
    fresh: bool,
) -> Result<usize, DeliveryError> {
    let at = Invoice {
        id: invoice_id,
        customer_ref,
        order_number: order.order_number,
    };
    post(call, &order.payments, &at, fresh).await
}

/// The invoice payments are applied to.
struct Invoice<'a> {
    id: &'a str,
    customer_ref: &'a str,
    order_number: i64,
}

async fn post(
    call: &Call<'_>,
    payments: &[Payment],
    invoice: &Invoice<'_>,
    fresh: bool,
) -> Result<usize, DeliveryError> {
    let (invoice_id, customer_ref) = (invoice.id, invoice.customer_ref);
    let mut todo = Vec::new();
    for p in ours(payments) {
        if call.mapped("Payment", p.id).await?.is_none() {
            todo.push(p);
        }
    }
    if todo.is_empty() || !payments_on(call).await? {
        return Ok(0);
    }
    let mut found = if fresh {
        Vec::new()
    } else {
        posted(call, customer_ref).await?
    };
    let mut done = 0;
    for p in todo {
        if let Some(doc) = find(&found, p) {
            call.map("Payment", p.id, doc).await?;
            done += 1;
            continue;
        }
        let body = payment_body(p, invoice_id, customer_ref, invoice.order_number);
        match call
            .write("Payment", &body, &format!("payment {}", p.id))
            .await
        {
            Ok(doc) => call.map("Payment", p.id, &doc).await?,
            Err(e) if e.write_outcome_unknown() => {
                tracing::warn!(tenant_id = %call.tenant_id, realm = %call.realm, order = invoice.order_number, error = %e,
                    "payment create outcome unknown; looking it up before any retry");
                found = posted(call, customer_ref).await?;
                match find(&found, p) {
                    Some(doc) => call.map("Payment", p.id, doc).await?,
                    None => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        done += 1;
    }
    Ok(done)
}

/// A `PaymentAdded` event: posts its payment once the order's invoice exists.
pub(super) async fn deliver(call: &Call<'_>) -> Result<Delivered, DeliveryError> {
    let payment: Payment = super::parse(call.ev.payload.get("payment"), "payment")?;
    let order_id: Uuid = super::parse(call.ev.payload.get("order_id"), "order id")?;
    if payment.origin != "Local" {
        return Ok(Delivered::skipped(&format!(
            "this payment came from {}; it is not sent back",
            payment.origin
        )));
    }
    if let Some(m) = call.mapped("Payment", payment.id).await? {
        return Ok(Delivered {
            skipped: None,
            external_id: Some(m.external_id),
            request: None,
            response: Some(json!({ "already": "posted" })),
        });
    }
    if !payments_on(call).await? {
        return Ok(Delivered::skipped("payment sync is off"));
    }
    let Some(invoice) = call.mapped("Order", order_id).await? else {
        return Ok(Delivered::skipped(
            "QuickBooks receives this payment with the order's invoice, once the order is paid in full",
        ));
    };
    let customer_id: Option<Uuid> = call
        .ev
        .payload
        .get("customer_id")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let customer_ref = match customer_id {
        Some(c) => call.mapped("Customer", c).await?.map(|m| m.external_id),
        None => None,
    };
    let Some(customer_ref) = customer_ref else {
        return Err(DeliveryError::permanent(
            "the order's customer is not in QuickBooks; sync the customer, then retry",
        ));
    };
    let at = Invoice {
        id: &invoice.external_id,
        customer_ref: &customer_ref,
        order_number: call.ev.payload["order_number"].as_i64().unwrap_or_default(),
    };
    post(call, std::slice::from_ref(&payment), &at, false).await?;
    let posted = call.mapped("Payment", payment.id).await?;
    Ok(Delivered {
        skipped: None,
        external_id: posted.map(|m| m.external_id),
        request: None,
        response: None,
    })
}
