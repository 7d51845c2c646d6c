//! Invoices out through QuickBooks' batch endpoint: one look-up query and one batch call for up
//! to 30 orders, then their payments in one more batch call ([`super::payments`]).

use serde_json::{json, Value};

use super::customers::sync_customer;
use super::invoices::{invoice_body, invoiced_already, map_invoice, not_for_cancelled};
use super::items::sync_item;
use super::{checks, invoice_marker, parse, payments, quote, Call};
use crate::domain::commerce::{Customer, Order, OrderStatus};
use crate::server::erp::quickbooks::client::QboError;
use crate::server::erp::quickbooks::connector::QuickBooks;
use crate::server::erp::quickbooks::fault::Fault;
use crate::server::erp::quickbooks::request_id::batch_request_id;
use crate::server::erp::quickbooks::tokens::Access;
use crate::server::erp::{Delivered, DeliveryError, OutboxEvent};

/// A fault inside a batch answer as a delivery error.
pub(super) fn item_fault(fault: &Value) -> DeliveryError {
    let body = json!({ "Fault": fault }).to_string();
    match Fault::parse(400, body.as_bytes()) {
        Some(f) => QboError::Fault {
            status: 400,
            fault: f,
            tid: None,
        }
        .into(),
        None => DeliveryError::retryable(format!("unreadable batch fault: {fault}")),
    }
}

/// What an order of the batch needs once its customer and items are made sure of.
enum Prepared {
    /// An invoice to create, with its request body.
    Create(Order, Value),
    /// Nothing to create: the delivery's record as it stands (already invoiced, cancelled).
    Done(Delivered),
}

/// Invoices for several orders: each order's customer and items made sure of one by one
/// (mapped after their first use), one query for the DocNumbers already in QuickBooks, one
/// batch call creating the rest, then the orders' payments QuickBooks lacks, posted together.
pub(super) async fn invoice_batch(
    qb: &QuickBooks,
    evs: &[&OutboxEvent],
) -> Vec<Result<Delivered, DeliveryError>> {
    let Some(first) = evs.first() else {
        return Vec::new();
    };
    let access = match qb.access(first.tenant_id).await {
        Ok(a) => a,
        Err(e) => {
            let e: DeliveryError = e.into();
            return evs.iter().map(|_| Err(e.clone())).collect();
        }
    };
    let mut out: Vec<Option<Result<Delivered, DeliveryError>>> = vec![None; evs.len()];
    // (index, call, order, body) of the invoices still to create.
    let mut todo: Vec<(usize, Order, Value)> = Vec::new();
    // The payments of the invoices in QuickBooks, posted after the last invoice.
    let mut dues: Vec<payments::Due> = Vec::new();
    let calls: Vec<Call<'_>> = evs
        .iter()
        .map(|ev| Call {
            qb,
            tenant_id: ev.tenant_id,
            realm: access.realm.clone(),
            token: access.token.clone(),
            ev,
        })
        .collect();
    for (i, call) in calls.iter().enumerate() {
        let prepared = async {
            let order: Order = parse(call.ev.payload.get("order"), "order")?;
            let customer: Customer = parse(call.ev.payload.get("customer"), "customer")?;
            if let Some(m) = call.mapped("Order", order.id).await? {
                let (done, owed) =
                    invoiced_already(call, i, &order, &customer, &m.external_id).await?;
                dues.extend(owed);
                return Ok(Prepared::Done(done));
            }
            if order.status == OrderStatus::Cancelled {
                return Ok(Prepared::Done(not_for_cancelled()));
            }
            if order.items.is_empty() {
                return Err(DeliveryError::permanent(
                    "the order has no items to invoice",
                ));
            }
            // What QuickBooks would refuse is refused here, before any write.
            checks::invoice(&order, &call.prefs().await?)?;
            let (customer_id, _) = sync_customer(call, &customer, false).await?;
            let mut item_ids = Vec::with_capacity(order.items.len());
            for line in &order.items {
                item_ids.push(sync_item(call, line, &order.currency).await?);
            }
            let body = invoice_body(&order, &customer_id, &item_ids);
            Ok(Prepared::Create(order, body))
        }
        .await;
        match prepared {
            Ok(Prepared::Create(order, body)) => todo.push((i, order, body)),
            Ok(Prepared::Done(done)) => out[i] = Some(Ok(done)),
            Err(e) => out[i] = Some(Err(e)),
        }
    }
    // Already in QuickBooks (a crashed or timed-out earlier attempt)? One query for all.
    if let Err(e) = adopt_found(&calls, &mut todo, &mut out, &mut dues).await {
        for (i, _, _) in todo.drain(..) {
            out[i] = Some(Err(e.clone()));
        }
    }
    // Intuit takes at most 30 items per batch call.
    let per_call = qb.client.settings().batch_size.clamp(1, 30);
    while !todo.is_empty() {
        let rest = todo.split_off(todo.len().min(per_call));
        let mut group = std::mem::replace(&mut todo, rest);
        send_batch(qb, &access, &calls, &mut group, &mut out, &mut dues).await;
    }
    for (i, e) in payments::post(&calls, dues, true).await {
        out[i] = Some(Err(e));
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(DeliveryError::retryable("not attempted"))))
        .collect()
}

/// One batch call creating the invoices of `group` (at most 30); every entry ends in `out`.
async fn send_batch(
    qb: &QuickBooks,
    access: &Access,
    calls: &[Call<'_>],
    group: &mut Vec<(usize, Order, Value)>,
    out: &mut [Option<Result<Delivered, DeliveryError>>],
    dues: &mut Vec<payments::Due>,
) {
    let items: Vec<Value> = group
        .iter()
        .enumerate()
        .map(|(b, (_, _, body))| json!({ "bId": b.to_string(), "operation": "create", "Invoice": body }))
        .collect();
    let keys: Vec<&str> = group
        .iter()
        .map(|(i, _, _)| calls[*i].ev.idempotency_key.as_str())
        .collect();
    let rid = batch_request_id(&keys);
    match qb
        .client
        .batch(&access.realm, &access.token, &items, &rid)
        .await
    {
        Ok(answers) => {
            for (b, (i, order, body)) in group.drain(..).enumerate() {
                let answer = answers
                    .iter()
                    .find(|a| a["bId"].as_str() == Some(b.to_string().as_str()));
                out[i] = Some(match answer {
                    Some(a) if a.get("Invoice").is_some() => {
                        let invoice = &a["Invoice"];
                        invoiced(&calls[i], i, &order, invoice, true, dues)
                            .await
                            .map(|id| Delivered {
                                skipped: None,
                                external_id: Some(id),
                                request: Some(body),
                                response: Some(invoice.clone()),
                            })
                    }
                    Some(a) if a.get("Fault").is_some() => Err(item_fault(&a["Fault"])),
                    _ => Err(DeliveryError::retryable(
                        "the batch answer left this invoice out",
                    )),
                });
            }
        }
        Err(e) if e.write_outcome_unknown() => {
            tracing::warn!(realm = %access.realm, error = %e, "invoice batch outcome unknown; looking the invoices up");
            let unknown: DeliveryError = e.into();
            if let Err(err) = adopt_found(calls, group, out, dues).await {
                tracing::warn!(error = %err, "looking up after an unknown batch outcome failed");
            }
            for (i, _, _) in group.drain(..) {
                out[i] = Some(Err(unknown.clone()));
            }
        }
        Err(e) => {
            let e: DeliveryError = e.into();
            for (i, _, _) in group.drain(..) {
                out[i] = Some(Err(e.clone()));
            }
        }
    }
}

/// Maps an invoice the batch path created (`fresh`) or found, and adds the order's payments
/// QuickBooks lacks to `dues`; returns the invoice's id.
async fn invoiced(
    call: &Call<'_>,
    slot: usize,
    order: &Order,
    invoice: &Value,
    fresh: bool,
    dues: &mut Vec<payments::Due>,
) -> Result<String, DeliveryError> {
    let id = map_invoice(call, order, invoice).await?;
    let customer_ref = invoice["CustomerRef"]["value"].as_str().ok_or_else(|| {
        DeliveryError::retryable("QuickBooks returned an invoice without a CustomerRef")
    })?;
    dues.extend(payments::due(call, slot, order, &id, customer_ref, fresh).await?);
    Ok(id)
}

/// Maps the invoices of `todo` that QuickBooks already has (DocNumber + marker) and removes
/// them from `todo`.
async fn adopt_found(
    calls: &[Call<'_>],
    todo: &mut Vec<(usize, Order, Value)>,
    out: &mut [Option<Result<Delivered, DeliveryError>>],
    dues: &mut Vec<payments::Due>,
) -> Result<(), DeliveryError> {
    let Some((first, _, _)) = todo.first() else {
        return Ok(());
    };
    let numbers: Vec<String> = todo
        .iter()
        .map(|(_, o, _)| quote(&o.order_number.to_string()))
        .collect();
    let stmt = format!(
        "select * from Invoice where DocNumber in ({}) maxresults 1000",
        numbers.join(", ")
    );
    let found = calls[*first].query_one("Invoice", &stmt).await?;
    let mut left = Vec::new();
    for (i, order, body) in todo.drain(..) {
        let marker = invoice_marker(order.id);
        match found.iter().find(|inv| {
            inv["PrivateNote"]
                .as_str()
                .is_some_and(|n| n.contains(&marker))
        }) {
            Some(inv) => {
                out[i] = Some(
                    invoiced(&calls[i], i, &order, inv, false, dues)
                        .await
                        .map(|id| Delivered {
                            skipped: None,
                            external_id: Some(id),
                            request: None,
                            response: Some(inv.clone()),
                        }),
                );
            }
            None => left.push((i, order, body)),
        }
    }
    *todo = left;
    Ok(())
}
