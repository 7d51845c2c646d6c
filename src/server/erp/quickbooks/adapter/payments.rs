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
//! Calls: the invoices of a batch delivery have their payments posted together — one look-up
//! query for those whose invoice was not created just now, then one batch call per 30 payments —
//! so a pass of 30 paid orders costs three calls, not thirty-three.
//!
//! Exactly once: a payment is mapped (`Payment` → QuickBooks id) as soon as QuickBooks has it;
//! before creating, a payment whose invoice existed before this delivery is looked up among its
//! customer's payments by our PrivateNote marker (a `requestid` alone is not trusted: reference
//! § 2); a create whose answer was lost is looked up again before any retry. The deposit account
//! is the connection's setting, else left to QuickBooks, whose default is the company's
//! Undeposited Funds (reference § 3).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{checks, decimal, item_fault, quote, Call};
use crate::domain::commerce::{Order, Payment};
use crate::server::erp::quickbooks::request_id::batch_request_id;
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

/// Intuit's recommended maximum of items per batch call (reference § 6).
const PER_BATCH: usize = 30;

/// Where payments go, when they are sent at all (the connection's "sync payments" setting):
/// `Some(deposit account)`, the account being None for QuickBooks' default, Undeposited Funds.
async fn sending(call: &Call<'_>) -> Result<Option<Option<String>>, DeliveryError> {
    let settings = connections::settings(&call.qb.db, call.tenant_id, super::PROVIDER)
        .await
        .map_err(|e| {
            DeliveryError::retryable(format!("reading the connection's settings failed: {e}"))
        })?;
    Ok(settings
        .filter(|s| s.sync_payments)
        .map(|s| s.deposit_account_id))
}

/// Payments recorded here (never those an ERP told us of), of a positive amount.
fn ours(payments: &[Payment]) -> impl Iterator<Item = &Payment> {
    payments
        .iter()
        .filter(|p| p.origin == "Local" && p.amount > 0)
}

/// A payment of ours that QuickBooks may still lack, and the invoice it is applied to.
pub(super) struct Due {
    /// The delivery it belongs to: an index into the calls (and results) of the batch.
    pub slot: usize,
    payment: Payment,
    invoice_id: String,
    customer_ref: String,
    order_number: i64,
    /// Whether QuickBooks may have it already (its invoice was not created by this delivery),
    /// so it is looked up before it is created.
    look: bool,
    /// The account it is deposited to (None: Undeposited Funds, QuickBooks' default).
    deposit: Option<String>,
}

impl Due {
    /// The create body: the whole amount applied to the invoice.
    fn body(&self) -> Value {
        let p = &self.payment;
        let note = format!("{} · order {}", payment_marker(p.id), self.order_number);
        let mut body = json!({
            "CustomerRef": { "value": self.customer_ref },
            "TotalAmt": decimal(p.amount, &p.currency),
            "TxnDate": p.received_at.format("%Y-%m-%d").to_string(),
            "PrivateNote": note,
            "Line": [{
                "Amount": decimal(p.amount, &p.currency),
                "LinkedTxn": [{ "TxnId": self.invoice_id, "TxnType": "Invoice" }],
            }],
        });
        if let Some(account) = &self.deposit {
            body["DepositToAccountRef"] = json!({ "value": account });
        }
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
                body["PrivateNote"] = json!(format!("{note} · reference {r}"));
            }
        }
        body
    }

    /// The copy of this payment QuickBooks already has, if any, among `found`.
    fn find<'a>(&self, found: &'a [Value]) -> Option<&'a Value> {
        let marker = payment_marker(self.payment.id);
        found.iter().find(|v| {
            v["PrivateNote"]
                .as_str()
                .is_some_and(|n| n.starts_with(&marker))
        })
    }
}

/// The payments of `order` that QuickBooks does not have yet (none while payment sync is off),
/// to be applied to `invoice_id`, for the delivery in `slot`. `fresh`: the invoice was created
/// by this delivery, so none of them can be there yet and their look-up is spared.
pub(super) async fn due(
    call: &Call<'_>,
    slot: usize,
    order: &Order,
    invoice_id: &str,
    customer_ref: &str,
    fresh: bool,
) -> Result<Vec<Due>, DeliveryError> {
    let mut unposted = Vec::new();
    for p in ours(&order.payments) {
        if call.mapped("Payment", p.id).await?.is_none() {
            unposted.push(p);
        }
    }
    if unposted.is_empty() {
        return Ok(Vec::new());
    }
    let Some(deposit) = sending(call).await? else {
        return Ok(Vec::new());
    };
    let todo: Vec<Due> = unposted
        .into_iter()
        .map(|p| Due {
            slot,
            payment: p.clone(),
            invoice_id: invoice_id.to_string(),
            customer_ref: customer_ref.to_string(),
            order_number: order.order_number,
            look: !fresh,
            deposit: deposit.clone(),
        })
        .collect();
    let prefs = call.prefs().await?;
    for d in &todo {
        checks::payment(&d.payment, order.order_number, &prefs)?;
    }
    Ok(todo)
}

/// The payments in QuickBooks of the customers of `dues`, from the day before the earliest of
/// them on (ours carry their received date as TxnDate), read 1,000 at a time.
/// [UNCONFIRMED] `IN` on Payment's CustomerRef: Intuit lists IN among the query operators and
/// CustomerRef as filterable; a company that refused it would fail this look-up, never duplicate.
async fn posted(call: &Call<'_>, dues: &[&Due]) -> Result<Vec<Value>, DeliveryError> {
    let customers: BTreeSet<&str> = dues.iter().map(|d| d.customer_ref.as_str()).collect();
    let Some(earliest) = dues.iter().map(|d| d.payment.received_at).min() else {
        return Ok(Vec::new());
    };
    let since = (earliest - chrono::Duration::days(1)).format("%Y-%m-%d");
    let refs: Vec<String> = customers.into_iter().map(quote).collect();
    let mut all = Vec::new();
    for page in 0..50 {
        let stmt = format!(
            "select * from Payment where CustomerRef in ({}) and TxnDate >= '{since}' \
             startposition {} maxresults 1000",
            refs.join(", "),
            page * 1000 + 1
        );
        let rows = call.query_one("Payment", &stmt).await?;
        let last = rows.len() < 1000;
        all.extend(rows);
        if last {
            break;
        }
    }
    Ok(all)
}

/// Posts `dues`, each exactly once: those that may be in QuickBooks already (a crashed or
/// timed-out earlier attempt) are looked up, all in one query, and mapped when found; the rest
/// are created — in batch calls of up to 30 when `batch`, one by one otherwise.
/// `calls[due.slot]` is each payment's delivery. Returns the failures, by slot; a slot with no
/// failure had all its payments posted.
pub(super) async fn post(
    calls: &[Call<'_>],
    dues: Vec<Due>,
    batch: bool,
) -> Vec<(usize, DeliveryError)> {
    let mut failed = Vec::new();
    let Some(first) = dues.first().map(|d| &calls[d.slot]) else {
        return failed;
    };
    let mut todo = dues;
    let unsure: Vec<&Due> = todo.iter().filter(|d| d.look).collect();
    if !unsure.is_empty() {
        match posted(first, &unsure).await {
            Ok(found) => todo = adopt(calls, todo, &found, &mut failed).await,
            Err(e) => return todo.into_iter().map(|d| (d.slot, e.clone())).collect(),
        }
    }
    if batch {
        while !todo.is_empty() {
            let rest = todo.split_off(todo.len().min(PER_BATCH));
            let group = std::mem::replace(&mut todo, rest);
            send_batch(calls, group, &mut failed).await;
        }
    } else {
        for d in todo {
            if let Err(e) = create_one(&calls[d.slot], &d).await {
                failed.push((d.slot, e));
            }
        }
    }
    failed
}

/// Maps the dues QuickBooks already has; returns the others.
async fn adopt(
    calls: &[Call<'_>],
    dues: Vec<Due>,
    found: &[Value],
    failed: &mut Vec<(usize, DeliveryError)>,
) -> Vec<Due> {
    let mut left = Vec::new();
    for d in dues {
        match d.find(found) {
            Some(doc) => {
                if let Err(e) = calls[d.slot].map("Payment", d.payment.id, doc).await {
                    failed.push((d.slot, e));
                }
            }
            None => left.push(d),
        }
    }
    left
}

/// One create; a lost answer is looked up before the error is returned.
async fn create_one(call: &Call<'_>, d: &Due) -> Result<(), DeliveryError> {
    match call
        .write("Payment", &d.body(), &format!("payment {}", d.payment.id))
        .await
    {
        Ok(doc) => call.map("Payment", d.payment.id, &doc).await,
        Err(e) if e.write_outcome_unknown() => {
            tracing::warn!(tenant_id = %call.tenant_id, realm = %call.realm, order = d.order_number, error = %e,
                "payment create outcome unknown; looking it up before any retry");
            let found = posted(call, &[d]).await?;
            match d.find(&found) {
                Some(doc) => call.map("Payment", d.payment.id, doc).await,
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// One batch call creating the payments of `group` (at most 30).
async fn send_batch(calls: &[Call<'_>], group: Vec<Due>, failed: &mut Vec<(usize, DeliveryError)>) {
    let Some(call) = group.first().map(|d| &calls[d.slot]) else {
        return;
    };
    let items: Vec<Value> = group
        .iter()
        .enumerate()
        .map(|(b, d)| json!({ "bId": b.to_string(), "operation": "create", "Payment": d.body() }))
        .collect();
    // The same payments always give the same requestid, so a retried call is replayed.
    let keys: Vec<String> = group
        .iter()
        .map(|d| format!("payment:{}", d.payment.id))
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    match call
        .qb
        .client
        .batch(&call.realm, &call.token, &items, &batch_request_id(&keys))
        .await
    {
        Ok(answers) => {
            for (b, d) in group.iter().enumerate() {
                let answer = answers
                    .iter()
                    .find(|a| a["bId"].as_str() == Some(b.to_string().as_str()));
                let result = match answer {
                    Some(a) if a.get("Payment").is_some() => {
                        calls[d.slot]
                            .map("Payment", d.payment.id, &a["Payment"])
                            .await
                    }
                    Some(a) if a.get("Fault").is_some() => Err(item_fault(&a["Fault"])),
                    _ => Err(DeliveryError::retryable(
                        "the batch answer left this payment out",
                    )),
                };
                if let Err(e) = result {
                    failed.push((d.slot, e));
                }
            }
        }
        Err(e) if e.write_outcome_unknown() => {
            tracing::warn!(realm = %call.realm, error = %e, "payment batch outcome unknown; looking the payments up");
            let unknown: DeliveryError = e.into();
            let all: Vec<&Due> = group.iter().collect();
            let left = match posted(call, &all).await {
                Ok(found) => adopt(calls, group, &found, failed).await,
                Err(err) => {
                    tracing::warn!(error = %err, "looking up after an unknown batch outcome failed");
                    group
                }
            };
            failed.extend(left.into_iter().map(|d| (d.slot, unknown.clone())));
        }
        Err(e) => {
            let e: DeliveryError = e.into();
            failed.extend(group.into_iter().map(|d| (d.slot, e.clone())));
        }
    }
}

/// The payments of `order` that QuickBooks lacks, posted one by one to `invoice_id` (a single
/// invoice delivery). `fresh`: the invoice was created by this delivery, so none can be there
/// yet and the look-up is spared.
pub(super) async fn post_for_invoice(
    call: &Call<'_>,
    order: &Order,
    invoice_id: &str,
    customer_ref: &str,
    fresh: bool,
) -> Result<(), DeliveryError> {
    let dues = due(call, 0, order, invoice_id, customer_ref, fresh).await?;
    match post(std::slice::from_ref(call), dues, false)
        .await
        .into_iter()
        .next()
    {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
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
    let Some(deposit) = sending(call).await? else {
        return Ok(Delivered::skipped("payment sync is off"));
    };
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
    let order_number = call.ev.payload["order_number"].as_i64().unwrap_or_default();
    checks::payment(&payment, order_number, &call.prefs().await?)?;
    let d = Due {
        slot: 0,
        payment,
        invoice_id: invoice.external_id,
        customer_ref,
        order_number,
        look: true,
        deposit,
    };
    let id = d.payment.id;
    if let Some((_, e)) = post(std::slice::from_ref(call), vec![d], false)
        .await
        .into_iter()
        .next()
    {
        return Err(e);
    }
    let posted = call.mapped("Payment", id).await?;
    Ok(Delivered {
        skipped: None,
        external_id: posted.map(|m| m.external_id),
        request: None,
        response: None,
    })
}
