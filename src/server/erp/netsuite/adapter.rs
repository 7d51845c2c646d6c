//! Delivering outbox events to NetSuite (PRD US-ERP-008): customers as NetSuite customers and
//! paid orders as sales orders, each written by an `eid:` upsert keyed on our record's id, so a
//! repeated delivery (at-least-once) finds and updates the same record — and a sales order's
//! lines are sent with `?replace=item`, so a repeat never adds lines (reference § 3).
//!
//! Checked before any call, each refusal a plain-words permanent failure: the home-currency rule
//! (an order in another currency than the account's or subsidiary's books), NetSuite's field
//! lengths, and every SKU having a NetSuite item (items belong to NetSuite; we never create
//! them). Payments are not sent to NetSuite yet; those events finish as skipped, with the reason.

use async_trait::async_trait;
use serde_json::{json, Value};
use uuid::Uuid;

use super::client::{Account, NsError, Page};
use super::connector::{NetSuite, OpenError, Stored};
use crate::domain::commerce::{Customer, Order};
use crate::domain::money;
use crate::server::erp::{Delivered, DeliveryError, ErpAdapter, OutboxEvent, Progress};
use crate::server::outbox::events;
use crate::server::store::mappings::{self, Mapping, Scope};
use crate::server::store::Db;
use crate::server::time;

/// The external id of our customer in NetSuite (letters, digits, `-`: safe in `eid:` URLs).
pub fn customer_external_id(id: Uuid) -> String {
    format!("erpb-customer-{id}")
}

/// The external id of our order's sales order.
pub fn order_external_id(id: Uuid) -> String {
    format!("erpb-order-{id}")
}

/// The connector as the outbox worker calls it.
#[derive(Clone)]
pub struct NetSuiteAdapter {
    pub(super) ns: NetSuite,
    pub(super) db: Db,
}

impl NetSuiteAdapter {
    /// An adapter reading connections from `db`.
    pub fn new(ns: NetSuite, db: Db) -> Self {
        NetSuiteAdapter { ns, db }
    }

    /// The tenant's account and what was stored with it.
    async fn open(&self, tenant_id: Uuid) -> Result<(Account, Stored), DeliveryError> {
        self.ns
            .connection(&self.db, tenant_id)
            .await
            .map_err(|e| match e {
                OpenError::NotConnected(message) => DeliveryError::Auth { message },
                OpenError::Store(_) => DeliveryError::retryable(e.to_string()),
            })
    }
}

/// A NetSuite failure as the outbox engine classifies it.
fn classify(e: NsError) -> DeliveryError {
    match e {
        NsError::Auth(_) => DeliveryError::Auth {
            message: e.to_string(),
        },
        NsError::Throttled { .. } => DeliveryError::Throttled {
            message: e.to_string(),
            retry_after: None,
        },
        NsError::Refused { .. } | NsError::NotFound => DeliveryError::permanent(e.to_string()),
        NsError::Unavailable(_) => DeliveryError::retryable(e.to_string()),
    }
}

use crate::server::erp::parse_payload as parse;

/// A text field within NetSuite's limit, or a plain-words refusal naming it (no call made).
fn within(value: &str, max: usize, field: &str) -> Result<(), DeliveryError> {
    let n = value.chars().count();
    if n > max {
        return Err(DeliveryError::permanent(format!(
            "The {field} has {n} characters; NetSuite takes at most {max}. Shorten it here, then sync again (nothing was sent)."
        )));
    }
    Ok(())
}

/// One event's working context.
struct Call<'a> {
    adapter: &'a NetSuiteAdapter,
    tenant_id: Uuid,
    acct: Account,
    stored: Stored,
}

impl Call<'_> {
    fn scope(&self, entity_type: &'static str) -> Scope<'_> {
        self.stored.scope(self.tenant_id, entity_type)
    }

    async fn map(
        &self,
        entity_type: &'static str,
        ours: Uuid,
        theirs: &str,
        eid: &str,
    ) -> Result<(), DeliveryError> {
        let m = Mapping {
            prometheus_id: ours.to_string(),
            external_id: theirs.to_string(),
            sync_token: None,
            metadata: Some(json!({ "externalId": eid }).to_string()),
        };
        mappings::upsert(&self.adapter.db, self.scope(entity_type), &m, time::now())
            .await
            .map_err(|e| DeliveryError::retryable(format!("recording the mapping failed: {e}")))
    }

    async fn mapped(&self, entity_type: &'static str, ours: Uuid) -> Result<bool, DeliveryError> {
        Ok(
            mappings::by_ours(&self.adapter.db, self.scope(entity_type), &ours.to_string())
                .await
                .map_err(|e| DeliveryError::retryable(format!("reading mappings failed: {e}")))?
                .is_some(),
        )
    }

    fn subsidiary(&self) -> Option<Value> {
        self.stored
            .subsidiary_id
            .as_ref()
            .map(|id| json!({ "id": id }))
    }

    /// Upserts the customer; its NetSuite internal id.
    async fn customer(&self, c: &Customer) -> Result<(String, Value), DeliveryError> {
        within(&c.name, 83, "customer name")?;
        if let Some(e) = &c.email {
            within(e, 254, "customer email")?;
        }
        if let Some(p) = &c.phone {
            within(p, 32, "customer phone")?;
        }
        let eid = customer_external_id(c.id);
        let entity_id = if self.mapped("Customer", c.id).await? {
            None
        } else {
            self.match_customer(c, &eid).await?
        };
        let mut body = json!({
            "companyName": c.name,
            "isPerson": false,
            "email": c.email,
            "phone": c.phone,
        });
        if let Some(name) = entity_id {
            body["entityId"] = json!(name);
        }
        if let Some(s) = self.subsidiary() {
            body["subsidiary"] = s;
        }
        let id = self
            .adapter
            .ns
            .client
            .upsert(&self.acct, "customer", &eid, &body, None)
            .await
            .map_err(classify)?;
        self.map("Customer", c.id, &id, &eid).await?;
        Ok((id, body))
    }

    /// DESIGN § 13's matching rule, before a customer's first upsert: a NetSuite customer with
    /// the same name (and no other email) that no integration has claimed is adopted — it gets
    /// our external id, so the upsert updates it instead of creating a twin. One claimed by
    /// another of our customers (or by another integration) is left alone, and ours is created
    /// as `Name (number)`. Returns the entity id a new record is created with; None when the
    /// record exists already (ours, or just adopted): its entity id stays as it is.
    async fn match_customer(
        &self,
        c: &Customer,
        eid: &str,
    ) -> Result<Option<String>, DeliveryError> {
        let q = "SELECT id, externalid, email FROM customer WHERE entityid = ? OR companyname = ?";
        let found = self
            .adapter
            .ns
            .client
            .suiteql(&self.acct, q, &[c.name.as_str(), c.name.as_str()], 1000, 0)
            .await
            .map_err(classify)?;
        let ours = |r: &Page| {
            r.items
                .iter()
                .any(|r| r.get("externalid").map(String::as_str) == Some(eid))
        };
        if ours(&found) {
            // An earlier attempt already adopted or created it (its answer may have been lost).
            return Ok(None);
        }
        let same_person = |r: &std::collections::HashMap<String, String>| match (
            c.email.as_deref(),
            r.get("email"),
        ) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let free = found
            .items
            .iter()
            .find(|r| !r.contains_key("externalid") && same_person(r));
        if let Some(id) = free.and_then(|r| r.get("id")) {
            self.adapter
                .ns
                .client
                .patch(&self.acct, "customer", id, &json!({ "externalId": eid }))
                .await
                .map_err(classify)?;
            tracing::info!(tenant_id = %self.tenant_id, customer = %c.id, netsuite_id = %id, "adopted an existing NetSuite customer with the same name");
            return Ok(None);
        }
        if found.items.is_empty() {
            return Ok(Some(c.name.clone()));
        }
        let name = format!("{} ({})", c.name, c.customer_number);
        within(&name, 83, "customer name with its number")?;
        Ok(Some(name))
    }

    /// NetSuite's item id of each SKU, in one query; a SKU without an item is a refusal.
    async fn items(
        &self,
        order: &Order,
    ) -> Result<std::collections::HashMap<String, String>, DeliveryError> {
        let mut skus: Vec<&str> = order.items.iter().map(|i| i.sku.as_str()).collect();
        skus.sort_unstable();
        skus.dedup();
        let marks = vec!["?"; skus.len()].join(", ");
        let q = format!("SELECT id, itemid FROM item WHERE itemid IN ({marks})");
        let page = self
            .adapter
            .ns
            .client
            .suiteql(&self.acct, &q, &skus, 1000, 0)
            .await
            .map_err(classify)?;
        let found: std::collections::HashMap<String, String> = page
            .items
            .into_iter()
            .filter_map(|r| Some((r.get("itemid")?.clone(), r.get("id")?.clone())))
            .collect();
        let missing: Vec<&str> = skus
            .iter()
            .copied()
            .filter(|s| !found.contains_key(*s))
            .collect();
        if !missing.is_empty() {
            return Err(DeliveryError::permanent(format!(
                "NetSuite has no item with the SKU {}. Items belong to NetSuite: create the item there (its Item Name/Number is the SKU), then retry this delivery (nothing was sent).",
                missing.join(", ")
            )));
        }
        Ok(found)
    }

    /// Upserts the order's sales order, its lines replaced (never appended).
    async fn sales_order(
        &self,
        order: &Order,
        customer: &Customer,
    ) -> Result<Delivered, DeliveryError> {
        if let Some(home) = &self.stored.home_currency {
            if !order.currency.eq_ignore_ascii_case(home) {
                return Err(DeliveryError::permanent(format!(
                    "Order {} is in {}, but the NetSuite account keeps its books in {home}; orders in other currencies are not sent yet (nothing was sent).",
                    order.order_number, order.currency
                )));
            }
        }
        let decimal = |minor: i64| json!(money::to_major_f64(minor, &order.currency));
        for item in &order.items {
            within(&item.description, 999, "line description")?;
        }
        let items = self.items(order).await?;
        // A mapped customer is referenced as it is (its own events keep it current); an
        // unmapped one is matched or upserted first.
        let mapped = mappings::by_ours(
            &self.adapter.db,
            self.scope("Customer"),
            &customer.id.to_string(),
        )
        .await
        .map_err(|e| DeliveryError::retryable(format!("reading mappings failed: {e}")))?;
        let customer_id = match mapped {
            Some(m) => m.external_id,
            None => self.customer(customer).await?.0,
        };
        let lines: Vec<Value> = order
            .items
            .iter()
            .map(|i| {
                json!({
                    "item": { "id": items.get(&i.sku) },
                    "quantity": i.quantity,
                    "rate": decimal(i.unit_price),
                    "amount": decimal(i.amount),
                    "description": i.description,
                })
            })
            .collect();
        let date = order
            .paid_at
            .unwrap_or(order.created_at)
            .format("%Y-%m-%d")
            .to_string();
        let mut body = json!({
            "entity": { "id": customer_id },
            "tranDate": date,
            "otherRefNum": order.order_number.to_string(),
            "memo": format!("erp-bridge order {}", order.order_number),
            "shippingCost": decimal(order.shipping_amount),
            "item": { "items": lines },
        });
        if let Some(s) = self.subsidiary() {
            body["subsidiary"] = s;
        }
        let eid = order_external_id(order.id);
        let id = self
            .adapter
            .ns
            .client
            .upsert(&self.acct, "salesOrder", &eid, &body, Some("item"))
            .await
            .map_err(classify)?;
        self.map("Order", order.id, &id, &eid).await?;
        Ok(Delivered {
            external_id: Some(id),
            request: Some(body),
            response: None,
            skipped: None,
        })
    }
}

#[async_trait]
impl ErpAdapter for NetSuiteAdapter {
    /// Enough events to keep the client's requests in flight for one account busy between the
    /// worker's settles (the lanes below run as many at a time as it has slots).
    fn batch_size(&self) -> usize {
        self.ns.client.concurrency() * 32
    }

    /// Side by side, in rounds of lanes: see [`super::batch`].
    async fn deliver_batch(&self, events: &[OutboxEvent], progress: &mut Progress) {
        super::batch::deliver(self, events, progress).await
    }

    async fn deliver(&self, ev: &OutboxEvent) -> Result<Delivered, DeliveryError> {
        let skip = |why: &str| Ok(Delivered::skipped(why));
        match ev.event_type.as_str() {
            events::CUSTOMER_CREATED
            | events::CUSTOMER_UPDATED
            | events::CUSTOMER_SYNC_REQUESTED
            | events::ORDER_PAID
            | events::ORDER_SYNC_REQUESTED
            | events::ORDER_UPDATED => {}
            events::ORDER_CREATED => {
                return skip("NetSuite receives a sales order when the order is paid in full");
            }
            events::PAYMENT_ADDED => {
                return skip(
                    "payments are not sent to NetSuite yet; the sales order carries the order",
                );
            }
            other => {
                return Err(DeliveryError::permanent(format!(
                    "NetSuite has no use for {other} events"
                )))
            }
        }
        let (acct, stored) = self.open(ev.tenant_id).await?;
        let call = Call {
            adapter: self,
            tenant_id: ev.tenant_id,
            acct,
            stored,
        };
        if ev.entity_type == "Order" {
            let order: Order = parse(ev.payload.get("order"), "order")?;
            let customer: Customer = parse(ev.payload.get("customer"), "customer")?;
            if ev.event_type == events::ORDER_UPDATED && !call.mapped("Order", order.id).await? {
                return skip("NetSuite receives a sales order when the order is paid in full");
            }
            return call.sales_order(&order, &customer).await;
        }
        let customer: Customer = parse(ev.payload.get("customer"), "customer")?;
        let (id, body) = call.customer(&customer).await?;
        Ok(Delivered {
            external_id: Some(id),
            request: Some(body),
            response: None,
            skipped: None,
        })
    }
}
