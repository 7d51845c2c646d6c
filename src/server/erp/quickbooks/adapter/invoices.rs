//! Invoices out, one order at a time: a paid order becomes one Invoice with every item as a line
//! plus a shipping line, DocNumber = order number, looked up before every create.

use serde_json::{json, Value};

use super::amend::amend_invoice;
use super::customers::sync_customer;
use super::items::sync_item;
use super::{checks, decimal, id_of, invoice_marker, payments, quote, Call};
use crate::domain::commerce::{Customer, Order, OrderStatus};
use crate::server::erp::{Delivered, DeliveryError};
use crate::server::outbox::events;
use crate::server::store::mappings::{self, Mapping};
use crate::server::time;

/// Our invoice for the order, if QuickBooks already has it (DocNumber + our marker).
pub(super) async fn find_invoice(
    call: &Call<'_>,
    order: &Order,
) -> Result<Option<Value>, DeliveryError> {
    let stmt = format!(
        "select * from Invoice where DocNumber = {}",
        quote(&order.order_number.to_string())
    );
    let marker = invoice_marker(order.id);
    Ok(call
        .query_one("Invoice", &stmt)
        .await?
        .into_iter()
        .find(|inv| {
            inv["PrivateNote"]
                .as_str()
                .is_some_and(|n| n.contains(&marker))
        }))
}

/// The invoice request for an order.
pub fn invoice_body(order: &Order, customer_id: &str, item_ids: &[String]) -> Value {
    let mut lines: Vec<Value> = order
        .items
        .iter()
        .zip(item_ids)
        .map(|(it, item_id)| {
            json!({
                "DetailType": "SalesItemLineDetail", "Amount": decimal(it.amount, &order.currency), "Description": it.description,
                "SalesItemLineDetail": { "ItemRef": { "value": item_id }, "Qty": it.quantity, "UnitPrice": decimal(it.unit_price, &order.currency) }
            })
        })
        .collect();
    if order.shipping_amount > 0 {
        lines.push(json!({
            "DetailType": "SalesItemLineDetail", "Amount": decimal(order.shipping_amount, &order.currency), "Description": "Shipping",
            "SalesItemLineDetail": { "ItemRef": { "value": "SHIPPING_ITEM_ID" } }
        }));
    }
    let date = checks::invoice_date(order).format("%Y-%m-%d").to_string();
    json!({
        "CustomerRef": { "value": customer_id }, "CurrencyRef": { "value": order.currency.to_ascii_uppercase() }, "DocNumber": order.order_number.to_string(), "TxnDate": date,
        "PrivateNote": invoice_marker(order.id), "Line": lines
    })
}

/// Maps the order and each of its items to the invoice and its lines (`{invoice}:{line}`).
pub(super) async fn map_invoice(
    call: &Call<'_>,
    order: &Order,
    invoice: &Value,
) -> Result<String, DeliveryError> {
    let invoice_id = id_of(invoice)?;
    call.map("Order", order.id, invoice).await?;
    let lines: Vec<&Value> = invoice["Line"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|x| x["DetailType"] == "SalesItemLineDetail")
                .collect()
        })
        .unwrap_or_default();
    for (item, line) in order.items.iter().zip(lines) {
        let line_id = line["Id"].as_str().unwrap_or_default();
        let m = Mapping {
            prometheus_id: item.id.to_string(),
            external_id: format!("{invoice_id}:{line_id}"),
            sync_token: None,
            metadata: Some(
                json!({ "LineNum": line["LineNum"], "Amount": line["Amount"] }).to_string(),
            ),
        };
        mappings::upsert(&call.qb.db, call.scope("OrderLine"), &m, time::now())
            .await
            .map_err(|e| {
                DeliveryError::retryable(format!("recording a line mapping failed: {e}"))
            })?;
    }
    Ok(invoice_id)
}

pub(super) async fn sync_invoice(
    call: &Call<'_>,
    order: &Order,
    customer: &Customer,
) -> Result<Delivered, DeliveryError> {
    if let Some(m) = call.mapped("Order", order.id).await? {
        let (done, dues) = invoiced_already(call, 0, order, customer, &m.external_id).await?;
        if let Some((_, e)) = payments::post(std::slice::from_ref(call), dues, false)
            .await
            .into_iter()
            .next()
        {
            return Err(e);
        }
        return Ok(done);
    }
    if order.status == OrderStatus::Cancelled {
        return Ok(not_for_cancelled());
    }
    if order.items.is_empty() {
        return Err(DeliveryError::permanent(
            "the order has no items to invoice",
        ));
    }
    // What QuickBooks would refuse is refused here, before any write.
    checks::invoice(order, &call.prefs().await?)?;
    let (customer_id, _) = sync_customer(call, customer, false).await?;
    let mut item_ids = Vec::with_capacity(order.items.len());
    for line in &order.items {
        item_ids.push(sync_item(call, line, &order.currency).await?);
    }
    // Look before creating, every time: an event taken over from a crashed process still has
    // retry_count 0 yet may have been sent, and `requestid` alone is not trusted (reference § 2).
    if let Some(found) = find_invoice(call, order).await? {
        let id = map_invoice(call, order, &found).await?;
        payments::post_for_invoice(call, order, &id, &customer_id, false).await?;
        return Ok(Delivered {
            skipped: None,
            external_id: Some(id),
            request: None,
            response: Some(found),
        });
    }
    let body = invoice_body(order, &customer_id, &item_ids);
    match call.write("Invoice", &body, "invoice").await {
        Ok(invoice) => {
            let id = map_invoice(call, order, &invoice).await?;
            payments::post_for_invoice(call, order, &id, &customer_id, true).await?;
            Ok(Delivered {
                skipped: None,
                external_id: Some(id),
                request: Some(body),
                response: Some(invoice),
            })
        }
        Err(e) if e.write_outcome_unknown() => {
            tracing::warn!(tenant_id = %call.tenant_id, realm = %call.realm, order = order.order_number, error = %e,
                "invoice create outcome unknown; looking it up before any retry");
            match find_invoice(call, order).await {
                Ok(Some(found)) => {
                    let id = map_invoice(call, order, &found).await?;
                    payments::post_for_invoice(call, order, &id, &customer_id, false).await?;
                    Ok(Delivered {
                        skipped: None,
                        external_id: Some(id),
                        request: Some(body),
                        response: Some(found),
                    })
                }
                _ => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// A cancelled order that QuickBooks has no invoice for gets none.
pub(super) fn not_for_cancelled() -> Delivered {
    Delivered::skipped("the order is cancelled; QuickBooks gets no invoice for it")
}

/// An order QuickBooks already has the invoice `invoice_id` for: a manual sync brings the
/// invoice in line with the order ([`amend_invoice`]); then the order's payments QuickBooks
/// lacks are owed (for the delivery in `slot`), unless the order is cancelled. Returns the
/// delivery's record and those payments.
pub(super) async fn invoiced_already(
    call: &Call<'_>,
    slot: usize,
    order: &Order,
    customer: &Customer,
    invoice_id: &str,
) -> Result<(Delivered, Vec<payments::Due>), DeliveryError> {
    let done = if call.ev.event_type == events::ORDER_SYNC_REQUESTED {
        amend_invoice(call, order, customer, invoice_id).await?
    } else {
        Delivered {
            skipped: None,
            external_id: Some(invoice_id.to_string()),
            request: None,
            response: Some(json!({ "already": "invoiced" })),
        }
    };
    if order.status == OrderStatus::Cancelled {
        return Ok((done, Vec::new()));
    }
    let (customer_id, _) = sync_customer(call, customer, false).await?;
    let dues = payments::due(call, slot, order, invoice_id, &customer_id, false).await?;
    Ok((done, dues))
}
