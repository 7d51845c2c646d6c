//! The outbox adapter: canonical events → QuickBooks. Customers become Customers (an existing
//! one with the same DisplayName is adopted instead of duplicated, DESIGN § 13), products become
//! Items as invoice lines need them, and a paid order becomes one Invoice with every item as a
//! line plus a `SHIPPING_ITEM_ID` shipping line, DocNumber = order number.
//!
//! Never twice: a mapping is looked up first; every write carries a `requestid` derived from the
//! outbox idempotency key; and because `requestid` alone has been reported to fail (reference
//! § 2), QuickBooks is asked for the order's invoice (DocNumber and our marker in PrivateNote)
//! before every create, and again when a create's outcome is unknown (a timeout, a 5xx).
//!
//! The parts: [`customers`], [`items`], [`invoices`] one at a time and by [`batch`];
//! [`payments`] go out with the invoice and after it, applied to it; an invoiced order's changes
//! follow it while no payment is applied there ([`amend`]); and what QuickBooks would refuse is
//! refused before any write ([`checks`]).

mod amend;
mod batch;
mod checks;
mod customers;
mod invoices;
mod items;
mod payments;
pub use payments::{payment_marker, MARKER_PREFIX as PAYMENT_MARKER_PREFIX};

use async_trait::async_trait;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::client::{quote, QboError};
use super::connector::{QuickBooks, PROVIDER};
use super::request_id::request_id;
use crate::domain::commerce::{Customer, Order};
use crate::server::erp::{deadline, Delivered, DeliveryError, ErpAdapter, OutboxEvent, Progress};
use crate::server::outbox::events;
use crate::server::store::mappings::{self, Mapping, Scope};
use crate::server::time;
use batch::{invoice_batch, item_fault};
pub use customers::display_names;
use customers::sync_customer;
pub use invoices::invoice_body;
use invoices::sync_invoice;

/// How the marker in the PrivateNote of every invoice we create begins.
pub const INVOICE_MARKER_PREFIX: &str = "erp-bridge order ";

/// The PrivateNote marker that identifies our invoice for an order.
pub fn invoice_marker(order_id: Uuid) -> String {
    format!("{INVOICE_MARKER_PREFIX}{order_id}")
}

/// Whether an invoice was voided (by anyone): QuickBooks prepends "Voided" to its PrivateNote
/// (reference § 9).
pub fn invoice_voided(invoice: &Value) -> bool {
    invoice["PrivateNote"]
        .as_str()
        .is_some_and(|n| n.starts_with("Voided"))
}

pub use super::money::{from_minor as decimal, to_minor as minor};

/// One event's working context: the company, a valid token, the event.
struct Call<'a> {
    qb: &'a QuickBooks,
    tenant_id: Uuid,
    realm: String,
    token: secrecy::SecretString,
    ev: &'a OutboxEvent,
}

impl Call<'_> {
    fn scope(&self, entity_type: &'static str) -> Scope<'_> {
        Scope {
            tenant_id: self.tenant_id,
            provider: PROVIDER,
            external_company_id: &self.realm,
            entity_type,
        }
    }

    fn rid(&self, operation: &str) -> String {
        request_id(&self.ev.idempotency_key, &self.ev.payload, operation)
    }

    async fn map(
        &self,
        entity_type: &'static str,
        ours: Uuid,
        theirs: &Value,
    ) -> Result<(), DeliveryError> {
        let m = Mapping {
            prometheus_id: ours.to_string(),
            external_id: id_of(theirs)?,
            sync_token: theirs["SyncToken"].as_str().map(str::to_string),
            metadata: Some(metadata(theirs).to_string()),
        };
        mappings::upsert(&self.qb.db, self.scope(entity_type), &m, time::now())
            .await
            .map_err(|e| DeliveryError::retryable(format!("recording the mapping failed: {e}")))
    }

    async fn mapped(
        &self,
        entity_type: &'static str,
        ours: Uuid,
    ) -> Result<Option<Mapping>, DeliveryError> {
        mappings::by_ours(&self.qb.db, self.scope(entity_type), &ours.to_string())
            .await
            .map_err(|e| DeliveryError::retryable(format!("reading mappings failed: {e}")))
    }

    async fn taken(
        &self,
        entity_type: &'static str,
        theirs: &str,
    ) -> Result<Option<String>, DeliveryError> {
        Ok(
            mappings::by_theirs(&self.qb.db, self.scope(entity_type), theirs)
                .await
                .map_err(|e| DeliveryError::retryable(format!("reading mappings failed: {e}")))?
                .map(|m| m.prometheus_id),
        )
    }

    async fn query_one(&self, entity: &str, statement: &str) -> Result<Vec<Value>, DeliveryError> {
        let resp = self
            .qb
            .client
            .query(&self.realm, &self.token, statement)
            .await?;
        Ok(resp
            .get(entity)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The company's preferences the pre-write checks need (cached for a few minutes).
    async fn prefs(&self) -> Result<super::company::CompanyPrefs, DeliveryError> {
        Ok(self
            .qb
            .prefs
            .get(&self.qb.client, &self.realm, &self.token)
            .await?)
    }

    async fn read(&self, entity: &str, id: &str) -> Result<Value, DeliveryError> {
        Ok(self
            .qb
            .client
            .read(&self.realm, &self.token, entity, id)
            .await?)
    }

    async fn write(&self, entity: &str, body: &Value, operation: &str) -> Result<Value, QboError> {
        self.qb
            .client
            .write(&self.realm, &self.token, entity, body, &self.rid(operation))
            .await
    }
}

fn id_of(v: &Value) -> Result<String, DeliveryError> {
    v["Id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| DeliveryError::retryable("QuickBooks returned a record without an Id"))
}

/// What a mapping remembers of the QuickBooks record: never balances (QuickBooks is not the
/// source of truth for our records).
pub fn metadata(v: &Value) -> Value {
    let mut m = Map::new();
    for key in ["DisplayName", "Name", "DocNumber", "TxnDate"] {
        if let Some(x) = v.get(key) {
            m.insert(key.to_string(), x.clone());
        }
    }
    if let Some(t) = v.pointer("/MetaData/LastUpdatedTime") {
        m.insert("LastUpdatedTime".into(), t.clone());
    }
    Value::Object(m)
}

/// QuickBooks display names are at most 500 characters.
fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

use crate::server::erp::parse_payload as parse;

fn is_invoice_event(ev: &OutboxEvent) -> bool {
    ev.event_type == events::ORDER_PAID || ev.event_type == events::ORDER_SYNC_REQUESTED
}

#[async_trait]
impl ErpAdapter for QuickBooks {
    /// Events per hand-over: up to three batch calls' worth (other events in the chunk, such as
    /// the PaymentAdded beside each OrderPaid, cost no call).
    /// With the batch endpoint off (batch size 1), one event at a time.
    fn batch_size(&self) -> usize {
        match self.client.settings().batch_size.clamp(1, 30) {
            1 => 1,
            n => n * 3,
        }
    }

    /// Invoices go out through QuickBooks' batch endpoint — one lookup query and one batch
    /// call for up to 30 orders, under one deadline; other events one by one, each under its own.
    /// Waits for Intuit's rate limits do not count against either ([`deadline`]).
    async fn deliver_batch(&self, evs: &[OutboxEvent], progress: &mut Progress) {
        let invoices: Vec<usize> = (0..evs.len())
            .filter(|i| is_invoice_event(&evs[*i]))
            .collect();
        let mut batched = vec![false; evs.len()];
        if invoices.len() >= 2 && self.batch_size() > 1 {
            let batch: Vec<&OutboxEvent> = invoices.iter().map(|i| &evs[*i]).collect();
            for i in &invoices {
                progress.start(*i);
                batched[*i] = true;
            }
            let results = deadline::within(progress.deadline(), invoice_batch(self, &batch))
                .await
                .unwrap_or_else(|| vec![Err(progress.timed_out()); batch.len()]);
            for (i, r) in invoices.iter().zip(results) {
                progress.finish(*i, r);
            }
        }
        for (i, ev) in evs.iter().enumerate().filter(|(i, _)| !batched[*i]) {
            progress.start(i);
            let result = deadline::within(progress.deadline(), self.deliver(ev))
                .await
                .unwrap_or_else(|| Err(progress.timed_out()));
            progress.finish(i, result);
        }
    }

    async fn deliver(&self, ev: &OutboxEvent) -> Result<Delivered, DeliveryError> {
        let skip = |why: &str| Ok(Delivered::skipped(why));
        match ev.event_type.as_str() {
            events::CUSTOMER_CREATED
            | events::CUSTOMER_UPDATED
            | events::CUSTOMER_SYNC_REQUESTED
            | events::ORDER_PAID
            | events::ORDER_SYNC_REQUESTED => {}
            events::ORDER_CREATED => {
                return skip("QuickBooks receives an invoice when the order is paid in full");
            }
            events::ORDER_UPDATED => {}
            events::PAYMENT_ADDED => {}
            other => {
                return Err(DeliveryError::permanent(format!(
                    "QuickBooks has no use for {other} events"
                )))
            }
        }
        let access = self.access(ev.tenant_id).await?;
        let call = Call {
            qb: self,
            tenant_id: ev.tenant_id,
            realm: access.realm,
            token: access.token,
            ev,
        };
        if ev.event_type == events::PAYMENT_ADDED {
            return payments::deliver(&call).await;
        }
        if ev.event_type == events::ORDER_UPDATED {
            // Once invoiced, the invoice follows the order (amend.rs); before, nothing to do.
            let order: Order = parse(ev.payload.get("order"), "order")?;
            let customer: Customer = parse(ev.payload.get("customer"), "customer")?;
            return match call.mapped("Order", order.id).await? {
                Some(m) => amend::amend_invoice(&call, &order, &customer, &m.external_id).await,
                None => skip("QuickBooks receives an invoice when the order is paid in full"),
            };
        }
        if is_invoice_event(ev) {
            let order: Order = parse(ev.payload.get("order"), "order")?;
            let customer: Customer = parse(ev.payload.get("customer"), "customer")?;
            return sync_invoice(&call, &order, &customer).await;
        }
        let customer: Customer = parse(ev.payload.get("customer"), "customer")?;
        let (id, doc) =
            sync_customer(&call, &customer, ev.event_type != events::CUSTOMER_CREATED).await?;
        Ok(Delivered {
            skipped: None,
            external_id: Some(id),
            request: None,
            response: doc,
        })
    }
}
