//! Changes after the invoice (the overwrite ruling of DESIGN § 14): an invoiced order that
//! changes (shipping, cancellation) takes its invoice along — but only an invoice we created,
//! only the fields we own, and only while QuickBooks holds no payment applied to it.
//!
//! - Lines differ (items, quantities, prices, shipping): a sparse update that sends `Line`,
//!   which replaces the whole line list (never appends); QuickBooks gives the new lines new ids,
//!   so the line mappings are rewritten from the answer.
//! - The order is cancelled: the invoice is voided (`operation=void`): it stays in the books
//!   with zero amounts. We never delete.
//! - A payment is applied in QuickBooks: nothing is changed; the delivery fails with a reason a
//!   person can act on.
//! - Nothing QuickBooks shows changed (a status such as Fulfilled): nothing is sent.

use serde_json::{json, Value};

use super::customers::sync_customer;
use super::invoices::{invoice_body, map_invoice};
use super::items::sync_item;
use super::{checks, invoice_voided, minor, Call};
use crate::domain::commerce::{Customer, Order, OrderStatus};
use crate::server::erp::{Delivered, DeliveryError};

/// Whether QuickBooks holds a payment applied to the invoice.
fn payment_applied(invoice: &Value, currency: &str) -> bool {
    let linked = invoice["LinkedTxn"]
        .as_array()
        .is_some_and(|l| l.iter().any(|t| t["TxnType"] == "Payment"));
    let total = minor(invoice.get("TotalAmt"), currency);
    let balance = minor(invoice.get("Balance"), currency);
    linked || matches!((total, balance), (Some(t), Some(b)) if b < t)
}

/// What the item lines of an invoice (sent or read back) say, in a comparable form:
/// (item, quantity in thousandths, amount in minor units), in order.
fn line_key(lines: &Value, currency: &str) -> Vec<(String, i64, i64)> {
    lines
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|x| x["DetailType"] == "SalesItemLineDetail")
                .map(|x| {
                    let d = &x["SalesItemLineDetail"];
                    (
                        d["ItemRef"]["value"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        (d["Qty"].as_f64().unwrap_or(0.0) * 1000.0).round() as i64,
                        minor(x.get("Amount"), currency).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Brings the invoice `invoice_id` of an already invoiced `order` in line with it. Returns the
/// delivery's record: what was sent and answered, or a skip when nothing needed to change.
pub(super) async fn amend_invoice(
    call: &Call<'_>,
    order: &Order,
    customer: &Customer,
    invoice_id: &str,
) -> Result<Delivered, DeliveryError> {
    let current = call.read("Invoice", invoice_id).await?;
    let number = order.order_number;
    if invoice_voided(&current) {
        if order.status == OrderStatus::Cancelled {
            return Ok(Delivered::skipped("its QuickBooks invoice is already void"));
        }
        return Err(DeliveryError::permanent(format!(
            "The QuickBooks invoice of order {number} was voided there, so erp-bridge no longer changes it; record the change in QuickBooks by hand, or dismiss this delivery."
        )));
    }
    let paid_there = payment_applied(&current, &order.currency);
    if order.status == OrderStatus::Cancelled {
        if paid_there {
            return Err(DeliveryError::permanent(format!(
                "Order {number} was cancelled, but its QuickBooks invoice has a payment applied, which QuickBooks will not void. Refund or unapply the payment in QuickBooks, then retry this delivery to void the invoice."
            )));
        }
        let body = json!({ "Id": invoice_id, "SyncToken": current["SyncToken"] });
        let doc = call
            .qb
            .client
            .void(
                &call.realm,
                &call.token,
                "Invoice",
                &body,
                &call.rid("invoice.void"),
            )
            .await?;
        call.map("Order", order.id, &doc).await?;
        return Ok(Delivered {
            skipped: None,
            external_id: Some(invoice_id.to_string()),
            request: Some(body),
            response: Some(doc),
        });
    }
    checks::invoice(order, &call.prefs().await?)?;
    let (customer_id, _) = sync_customer(call, customer, false).await?;
    let mut item_ids = Vec::with_capacity(order.items.len());
    for line in &order.items {
        item_ids.push(sync_item(call, line, &order.currency).await?);
    }
    let wanted = invoice_body(order, &customer_id, &item_ids);
    let same_customer = current["CustomerRef"]["value"].as_str() == Some(customer_id.as_str());
    if same_customer
        && line_key(&wanted["Line"], &order.currency) == line_key(&current["Line"], &order.currency)
    {
        return Ok(Delivered::skipped(
            "nothing QuickBooks shows on the invoice changed",
        ));
    }
    if paid_there {
        return Err(DeliveryError::permanent(format!(
            "Order {number} changed after its QuickBooks invoice received a payment, and erp-bridge does not change an invoice with a payment applied. Adjust the invoice in QuickBooks (or issue a credit memo there), then dismiss this delivery."
        )));
    }
    // Only the fields we own: the lines (replaced whole) and the customer.
    let body = json!({
        "Id": invoice_id, "SyncToken": current["SyncToken"], "sparse": true,
        "CustomerRef": wanted["CustomerRef"], "Line": wanted["Line"],
    });
    let doc = call.write("Invoice", &body, "invoice.update").await?;
    map_invoice(call, order, &doc).await?;
    Ok(Delivered {
        skipped: None,
        external_id: Some(invoice_id.to_string()),
        request: Some(body),
        response: Some(doc),
    })
}
