//! The outbox adapter: canonical events → QuickBooks. Customers become Customers (an existing
//! one with the same DisplayName is adopted instead of duplicated, DESIGN § 13), products become
//! Items as invoice lines need them, and a paid order becomes one Invoice with every item as a
//! line plus a `SHIPPING_ITEM_ID` shipping line, DocNumber = order number.
//!
//! Never twice: a mapping is looked up first; every write carries a `requestid` derived from the
//! outbox idempotency key; and because `requestid` alone has been reported to fail (reference
//! § 2), QuickBooks is asked for the order's invoice (DocNumber and our marker in PrivateNote)
//! before every create, and again when a create's outcome is unknown (a timeout, a 5xx).

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::client::{quote, QboError};
use super::connector::{QuickBooks, PROVIDER};
use super::fault::FaultClass;
use super::request_id::request_id;
use crate::domain::commerce::{Customer, Order, OrderItem};
use crate::server::erp::{Delivered, DeliveryError, ErpAdapter, OutboxEvent, Progress};
use crate::server::outbox::events;
use crate::server::store::mappings::{self, Mapping, Scope};
use crate::server::time;

/// The PrivateNote marker that identifies our invoice for an order.
pub fn invoice_marker(order_id: Uuid) -> String {
    format!("erp-bridge order {order_id}")
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

fn address(a: &crate::domain::commerce::Address) -> Option<Value> {
    let mut m = Map::new();
    for (key, v) in [
        ("Line1", &a.line1),
        ("Line2", &a.line2),
        ("City", &a.city),
        ("CountrySubDivisionCode", &a.region),
        ("PostalCode", &a.postal_code),
        ("Country", &a.country),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            m.insert(key.into(), json!(v));
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// The QuickBooks Customer fields we own.
fn customer_body(c: &Customer, display_name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("DisplayName".into(), json!(display_name));
    m.insert("CompanyName".into(), json!(c.name));
    if let Some(e) = c.email.as_deref().filter(|e| !e.is_empty()) {
        m.insert("PrimaryEmailAddr".into(), json!({ "Address": e }));
    }
    if let Some(p) = c.phone.as_deref().filter(|p| !p.is_empty()) {
        m.insert("PrimaryPhone".into(), json!({ "FreeFormNumber": p }));
    }
    if let Some(a) = address(&c.billing) {
        m.insert("BillAddr".into(), a);
    }
    if let Some(a) = address(&c.shipping) {
        m.insert("ShipAddr".into(), a);
    }
    m.insert(
        "Notes".into(),
        json!(format!("erp-bridge customer #{}", c.customer_number)),
    );
    m
}

/// QuickBooks display names are at most 500 characters.
fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

fn parse<T: serde::de::DeserializeOwned>(
    v: Option<&Value>,
    what: &str,
) -> Result<T, DeliveryError> {
    serde_json::from_value(v.cloned().unwrap_or(Value::Null))
        .map_err(|e| DeliveryError::permanent(format!("the event carries no readable {what}: {e}")))
}

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
            let results = match tokio::time::timeout(
                progress.deadline(),
                invoice_batch(self, &batch),
            )
            .await
            {
                Ok(results) => results,
                Err(_) => vec![Err(progress.timed_out()); batch.len()],
            };
            for (i, r) in invoices.iter().zip(results) {
                progress.finish(*i, r);
            }
        }
        for (i, ev) in evs.iter().enumerate().filter(|(i, _)| !batched[*i]) {
            progress.start(i);
            let result = match tokio::time::timeout(progress.deadline(), self.deliver(ev)).await {
                Ok(result) => result,
                Err(_) => Err(progress.timed_out()),
            };
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
            events::ORDER_CREATED | events::ORDER_UPDATED => {
                return skip("QuickBooks receives an invoice when the order is paid in full");
            }
            events::PAYMENT_ADDED => {
                return skip(
                    "payments recorded in erp-bridge are not posted to QuickBooks in this version",
                );
            }
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

/// Makes sure the customer exists in QuickBooks and is mapped; with `update`, an already
/// mapped customer gets our current fields. Returns the QuickBooks id and the record written.
async fn sync_customer(
    call: &Call<'_>,
    c: &Customer,
    update: bool,
) -> Result<(String, Option<Value>), DeliveryError> {
    if let Some(m) = call.mapped("Customer", c.id).await? {
        if !update {
            return Ok((m.external_id, None));
        }
        let doc = update_customer(call, c, &m).await?;
        call.map("Customer", c.id, &doc).await?;
        return Ok((m.external_id, Some(doc)));
    }
    let name = clip(&c.name, 500);
    if let Some(id) = adopt_customer(call, c, &name).await? {
        return Ok((id, None));
    }
    // The name belongs to a QuickBooks customer another of ours is mapped to: disambiguate.
    let other = clip(
        &format!("{} ({})", clip(&c.name, 480), c.customer_number),
        500,
    );
    let name = if find_customer(call, &name).await?.is_some() {
        other
    } else {
        name
    };
    if let Some(id) = adopt_customer(call, c, &name).await? {
        return Ok((id, None));
    }
    if find_customer(call, &name).await?.is_some() {
        return Err(DeliveryError::permanent(format!(
            "QuickBooks customers named {name:?} already belong to other erp-bridge customers; rename the customer"
        )));
    }
    let body = Value::Object(customer_body(c, &name));
    match call.write("Customer", &body, "customer").await {
        Ok(doc) => {
            call.map("Customer", c.id, &doc).await?;
            Ok((id_of(&doc)?, Some(doc)))
        }
        // Created meanwhile (a race, or our own timed-out create): adopt it if nobody has it.
        Err(e) if e.class() == Some(FaultClass::DuplicateName) || e.write_outcome_unknown() => {
            match adopt_customer(call, c, &name).await? {
                Some(id) => Ok((id, None)),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn find_customer(call: &Call<'_>, name: &str) -> Result<Option<Value>, DeliveryError> {
    let stmt = format!("select * from Customer where DisplayName = {}", quote(name));
    Ok(call.query_one("Customer", &stmt).await?.into_iter().next())
}

/// Maps the QuickBooks customer called `name` to ours, unless another of ours has it.
async fn adopt_customer(
    call: &Call<'_>,
    c: &Customer,
    name: &str,
) -> Result<Option<String>, DeliveryError> {
    let Some(found) = find_customer(call, name).await? else {
        return Ok(None);
    };
    let id = id_of(&found)?;
    match call.taken("Customer", &id).await? {
        Some(owner) if owner != c.id.to_string() => Ok(None),
        _ => {
            call.map("Customer", c.id, &found).await?;
            tracing::info!(tenant_id = %call.tenant_id, realm = %call.realm, qbo_id = %id, "adopted an existing QuickBooks customer with the same name");
            Ok(Some(id))
        }
    }
}

/// A sparse update with the SyncToken the mapping remembers; on a stale token (5010) it reads
/// the record again and retries once. The display name follows ours, keeping the
/// disambiguated form `Name (number)` when that is what QuickBooks has or when the plain name
/// is taken (6240).
async fn update_customer(
    call: &Call<'_>,
    c: &Customer,
    m: &Mapping,
) -> Result<Value, DeliveryError> {
    let id = m.external_id.as_str();
    let disambiguated = clip(
        &format!("{} ({})", clip(&c.name, 480), c.customer_number),
        500,
    );
    let remembered: Value = m
        .metadata
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let mut token = m.sync_token.clone();
    let mut current_name = remembered["DisplayName"].as_str().map(str::to_string);
    let (mut display, mut stale_retried) = (None, false);
    for attempt in 1..=3 {
        if token.is_none() || current_name.is_none() {
            let current = call
                .qb
                .client
                .read(&call.realm, &call.token, "Customer", id)
                .await?;
            token = current["SyncToken"].as_str().map(str::to_string);
            current_name = current["DisplayName"].as_str().map(str::to_string);
        }
        let name = display.clone().unwrap_or_else(|| {
            if current_name.as_deref() == Some(disambiguated.as_str()) {
                disambiguated.clone()
            } else {
                clip(&c.name, 500)
            }
        });
        let mut body = customer_body(c, &name);
        body.insert("Id".into(), json!(id));
        body.insert("SyncToken".into(), json!(token.clone().unwrap_or_default()));
        body.insert("sparse".into(), json!(true));
        let op = format!(
            "customer-update-{}-{attempt}",
            token.as_deref().unwrap_or("0")
        );
        match call.write("Customer", &Value::Object(body), &op).await {
            Ok(doc) => return Ok(doc),
            Err(e) if e.class() == Some(FaultClass::Stale) && !stale_retried => {
                stale_retried = true;
                tracing::info!(tenant_id = %call.tenant_id, realm = %call.realm, qbo_id = %id, "stale SyncToken on customer update; reading again");
                token = None;
            }
            Err(e)
                if e.class() == Some(FaultClass::DuplicateName)
                    && display.is_none()
                    && name != disambiguated =>
            {
                display = Some(disambiguated.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DeliveryError::retryable(
        "the QuickBooks customer kept changing while we updated it",
    ))
}

/// Item names cannot contain colons (QuickBooks uses them for sub-items) and are at most 100
/// characters.
fn item_name(sku: &str) -> String {
    clip(&sku.replace(':', "-"), 100)
}

/// Makes sure the product behind an order line exists as a QuickBooks Item; returns its id.
async fn sync_item(call: &Call<'_>, line: &OrderItem) -> Result<String, DeliveryError> {
    if let Some(m) = call.mapped("Product", line.product_id).await? {
        return Ok(m.external_id);
    }
    let name = item_name(&line.sku);
    let find = || async {
        let stmt = format!("select * from Item where Name = {}", quote(&name));
        Ok::<_, DeliveryError>(call.query_one("Item", &stmt).await?.into_iter().next())
    };
    if let Some(found) = find().await? {
        let id = id_of(&found)?;
        if call
            .taken("Product", &id)
            .await?
            .is_none_or(|o| o == line.product_id.to_string())
        {
            call.map("Product", line.product_id, &found).await?;
            return Ok(id);
        }
        return Err(DeliveryError::permanent(format!(
            "the QuickBooks item {name:?} belongs to another product"
        )));
    }
    let accounts = call
        .query_one(
            "Account",
            "select * from Account where AccountType = 'Income' maxresults 1",
        )
        .await?;
    let account = accounts.first().ok_or_else(|| {
        DeliveryError::permanent("the QuickBooks company has no income account for new items")
    })?;
    let body = json!({
        "Name": name, "Sku": clip(&line.sku, 100), "Description": clip(&line.description, 4000), "Type": "Service",
        "UnitPrice": decimal(line.unit_price),
        "IncomeAccountRef": { "value": account["Id"], "name": account["Name"] }
    });
    match call
        .write("Item", &body, &format!("item-{}", line.product_id.simple()))
        .await
    {
        Ok(doc) => {
            call.map("Product", line.product_id, &doc).await?;
            id_of(&doc)
        }
        Err(e) if e.class() == Some(FaultClass::DuplicateName) || e.write_outcome_unknown() => {
            match find().await? {
                Some(found) => {
                    call.map("Product", line.product_id, &found).await?;
                    id_of(&found)
                }
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Our invoice for the order, if QuickBooks already has it (DocNumber + our marker).
async fn find_invoice(call: &Call<'_>, order: &Order) -> Result<Option<Value>, DeliveryError> {
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
                "DetailType": "SalesItemLineDetail", "Amount": decimal(it.amount), "Description": it.description,
                "SalesItemLineDetail": { "ItemRef": { "value": item_id }, "Qty": it.quantity, "UnitPrice": decimal(it.unit_price) }
            })
        })
        .collect();
    if order.shipping_amount > 0 {
        lines.push(json!({
            "DetailType": "SalesItemLineDetail", "Amount": decimal(order.shipping_amount), "Description": "Shipping",
            "SalesItemLineDetail": { "ItemRef": { "value": "SHIPPING_ITEM_ID" } }
        }));
    }
    let date = order
        .paid_at
        .unwrap_or(order.created_at)
        .format("%Y-%m-%d")
        .to_string();
    json!({
        "CustomerRef": { "value": customer_id }, "DocNumber": order.order_number.to_string(), "TxnDate": date,
        "PrivateNote": invoice_marker(order.id), "Line": lines
    })
}

/// Maps the order and each of its items to the invoice and its lines (`{invoice}:{line}`).
async fn map_invoice(
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

async fn sync_invoice(
    call: &Call<'_>,
    order: &Order,
    customer: &Customer,
) -> Result<Delivered, DeliveryError> {
    if let Some(m) = call.mapped("Order", order.id).await? {
        return Ok(Delivered {
            skipped: None,
            external_id: Some(m.external_id),
            request: None,
            response: Some(json!({ "already": "invoiced" })),
        });
    }
    if order.items.is_empty() {
        return Err(DeliveryError::permanent(
            "the order has no items to invoice",
        ));
    }
    let (customer_id, _) = sync_customer(call, customer, false).await?;
    let mut item_ids = Vec::with_capacity(order.items.len());
    for line in &order.items {
        item_ids.push(sync_item(call, line).await?);
    }
    // Look before creating, every time: an event taken over from a crashed process still has
    // retry_count 0 yet may have been sent, and `requestid` alone is not trusted (reference § 2).
    if let Some(found) = find_invoice(call, order).await? {
        let id = map_invoice(call, order, &found).await?;
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

/// A fault inside a batch answer as a delivery error.
fn item_fault(fault: &Value) -> DeliveryError {
    let body = json!({ "Fault": fault }).to_string();
    match super::fault::Fault::parse(400, body.as_bytes()) {
        Some(f) => QboError::Fault {
            status: 400,
            fault: f,
            tid: None,
        }
        .into(),
        None => DeliveryError::retryable(format!("unreadable batch fault: {fault}")),
    }
}

/// Invoices for several orders: each order's customer and items made sure of one by one
/// (mapped after their first use), one query for the DocNumbers already in QuickBooks, then
/// one batch call creating the rest.
async fn invoice_batch(
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
                return Ok(Err(m.external_id));
            }
            if order.items.is_empty() {
                return Err(DeliveryError::permanent(
                    "the order has no items to invoice",
                ));
            }
            let (customer_id, _) = sync_customer(call, &customer, false).await?;
            let mut item_ids = Vec::with_capacity(order.items.len());
            for line in &order.items {
                item_ids.push(sync_item(call, line).await?);
            }
            let body = invoice_body(&order, &customer_id, &item_ids);
            Ok(Ok((order, body)))
        }
        .await;
        match prepared {
            Ok(Ok((order, body))) => todo.push((i, order, body)),
            Ok(Err(existing)) => {
                out[i] = Some(Ok(Delivered {
                    skipped: None,
                    external_id: Some(existing),
                    request: None,
                    response: Some(json!({ "already": "invoiced" })),
                }))
            }
            Err(e) => out[i] = Some(Err(e)),
        }
    }
    // Already in QuickBooks (a crashed or timed-out earlier attempt)? One query for all.
    if let Err(e) = adopt_found(&calls, &mut todo, &mut out).await {
        for (i, _, _) in todo.drain(..) {
            out[i] = Some(Err(e.clone()));
        }
    }
    // Intuit takes at most 30 items per batch call.
    let per_call = qb.client.settings().batch_size.clamp(1, 30);
    while !todo.is_empty() {
        let rest = todo.split_off(todo.len().min(per_call));
        let mut group = std::mem::replace(&mut todo, rest);
        send_batch(qb, &access, &calls, &mut group, &mut out).await;
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(DeliveryError::retryable("not attempted"))))
        .collect()
}

/// One batch call creating the invoices of `group` (at most 30); every entry ends in `out`.
async fn send_batch(
    qb: &QuickBooks,
    access: &super::tokens::Access,
    calls: &[Call<'_>],
    group: &mut Vec<(usize, Order, Value)>,
    out: &mut [Option<Result<Delivered, DeliveryError>>],
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
    let rid = super::request_id::batch_request_id(&keys);
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
                        map_invoice(&calls[i], &order, &a["Invoice"])
                            .await
                            .map(|id| Delivered {
                                skipped: None,
                                external_id: Some(id),
                                request: Some(body),
                                response: Some(a["Invoice"].clone()),
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
            if let Err(err) = adopt_found(calls, group, out).await {
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

/// Maps the invoices of `todo` that QuickBooks already has (DocNumber + marker) and removes
/// them from `todo`.
async fn adopt_found(
    calls: &[Call<'_>],
    todo: &mut Vec<(usize, Order, Value)>,
    out: &mut [Option<Result<Delivered, DeliveryError>>],
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
                    map_invoice(&calls[i], &order, inv)
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
