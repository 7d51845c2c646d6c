//! Orders, their items and payments. Every change that an ERP must learn about raises its
//! outbox event in the same transaction; item status changes are audited with the order context.

use serde_json::json;
use uuid::Uuid;

use super::customers::currency;
use super::paging::Paging;
use super::sync_status;
use crate::domain::commerce::{
    ItemStatus, NewOrder, NewPayment, Order, OrderItem, OrderStatus, OrderUpdate, Page,
    PaymentStatus, MAX_ORDER_ITEMS, MAX_QUANTITY, MAX_SHIPPING, MAX_UNIT_PRICE,
};
use crate::domain::connection::Provider;
use crate::domain::{Policy, Role};
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::outbox::{self, events, NewEvent};
use crate::server::service::errors::store;
use crate::server::store::orders::{self, NewOrderRow, NewPaymentRow};
use crate::server::store::{audit, customers, products, Db, StoreError, Tx};
use crate::server::time;

/// A shipping charge within bounds.
fn check_shipping(amount: i64) -> Result<(), AppError> {
    if (0..=MAX_SHIPPING).contains(&amount) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "The shipping amount must be between 0 and {MAX_SHIPPING} (minor units)."
        )))
    }
}

/// Creates an order (status Placed) and raises `OrderCreated` in the same transaction.
pub async fn create(db: &Db, p: &Principal, input: NewOrder) -> Result<Order, AppError> {
    p.require(Policy::ManageCommerce)?;
    if input.items.is_empty() || input.items.len() > MAX_ORDER_ITEMS {
        return Err(AppError::BadRequest(format!(
            "An order needs 1 to {MAX_ORDER_ITEMS} items."
        )));
    }
    check_shipping(input.shipping_amount)?;
    let cur = currency(input.currency.as_deref())?;
    // The order number is MAX+1 per tenant; concurrent PostgreSQL writers may collide on it,
    // in which case the whole transaction is simply tried again.
    for _ in 0..5 {
        match try_create(db, p, &input, &cur).await {
            Err(CreateError::Store(StoreError::Duplicate(_))) => continue,
            Err(CreateError::Store(e)) => return Err(store(e)),
            Err(CreateError::App(e)) => return Err(e),
            Ok(id) => return get(db, p, id).await,
        }
    }
    Err(AppError::Conflict(
        "Could not allocate an order number; try again.".into(),
    ))
}

enum CreateError {
    App(AppError),
    Store(StoreError),
}

impl From<StoreError> for CreateError {
    fn from(e: StoreError) -> Self {
        CreateError::Store(e)
    }
}

async fn try_create(
    db: &Db,
    p: &Principal,
    input: &NewOrder,
    cur: &str,
) -> Result<Uuid, CreateError> {
    let now = time::now();
    let mut tx = db.begin().await?;
    if customers::get_in(&mut tx, p.tenant_id, input.customer_id)
        .await?
        .is_none()
    {
        return Err(CreateError::App(AppError::Conflict(
            "There is no such customer.".into(),
        )));
    }
    let mut items = Vec::with_capacity(input.items.len());
    for (i, line) in input.items.iter().enumerate() {
        let product = products::get_in(&mut tx, p.tenant_id, line.product_id)
            .await?
            .ok_or_else(|| {
                CreateError::App(AppError::Conflict(format!(
                    "Item {}: there is no such product.",
                    i + 1
                )))
            })?;
        items.push(
            build_item(i, line.quantity, line.unit_price, &product, cur)
                .map_err(CreateError::App)?,
        );
    }
    let subtotal = items
        .iter()
        .try_fold(0i64, |acc, it| acc.checked_add(it.amount));
    let subtotal = subtotal
        .filter(|s| s.checked_add(input.shipping_amount).is_some())
        .ok_or_else(|| {
            CreateError::App(AppError::BadRequest("The order total is too large.".into()))
        })?;
    let header = NewOrderRow {
        customer_id: input.customer_id,
        status: OrderStatus::Placed,
        currency: cur,
        subtotal,
        shipping_amount: input.shipping_amount,
    };
    let (id, _) = orders::insert(&mut tx, p.tenant_id, &header, now).await?;
    for item in &items {
        orders::insert_item(&mut tx, p.tenant_id, id, item, now).await?;
    }
    let order = orders::get_in(&mut tx, p.tenant_id, id)
        .await?
        .ok_or(CreateError::App(AppError::NotFound))?;
    raise_order(&mut tx, p, events::ORDER_CREATED, &order, None)
        .await
        .map_err(CreateError::App)?;
    audit_order(&mut tx, p, "order.created", &order, None).await?;
    tx.commit().await?;
    Ok(id)
}

fn build_item(
    i: usize,
    quantity: i64,
    price: Option<i64>,
    product: &crate::domain::commerce::Product,
    cur: &str,
) -> Result<OrderItem, AppError> {
    let n = i + 1;
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(AppError::BadRequest(format!(
            "Item {n}: the quantity must be between 1 and {MAX_QUANTITY}."
        )));
    }
    if product.currency != cur {
        return Err(AppError::Conflict(format!(
            "Item {n}: {} is priced in {}, the order in {cur}.",
            product.sku, product.currency
        )));
    }
    let unit_price = price.unwrap_or(product.unit_price);
    if !(0..=MAX_UNIT_PRICE).contains(&unit_price) {
        return Err(AppError::BadRequest(format!(
            "Item {n}: the unit price must be between 0 and {MAX_UNIT_PRICE} (minor units)."
        )));
    }
    let amount = quantity
        .checked_mul(unit_price)
        .ok_or_else(|| AppError::BadRequest(format!("Item {n}: the amount is too large.")))?;
    Ok(OrderItem {
        id: Uuid::now_v7(),
        line_number: i64::try_from(n).unwrap_or(i64::MAX),
        product_id: product.id,
        sku: product.sku.clone(),
        description: product.name.clone(),
        quantity,
        unit_price,
        amount,
        status: ItemStatus::Pending,
    })
}

/// The order payload adapters receive: the order with its items, and its customer.
pub(crate) async fn order_payload(
    tx: &mut Tx,
    p: &Principal,
    order: &Order,
) -> Result<serde_json::Value, AppError> {
    let sql_customer = customers::get_in(tx, p.tenant_id, order.customer_id)
        .await
        .map_err(store)?;
    Ok(json!({ "order": order, "customer": sql_customer }))
}

/// The payment payload adapters receive: the payment and the order it belongs to.
pub(crate) fn payment_payload(order: &Order, payment_id: Uuid) -> serde_json::Value {
    json!({
        "payment": order.payments.iter().find(|x| x.id == payment_id),
        "order_id": order.id,
        "order_number": order.order_number,
        "customer_id": order.customer_id,
    })
}

async fn raise_order(
    tx: &mut Tx,
    p: &Principal,
    event_type: &'static str,
    order: &Order,
    origin: Option<Provider>,
) -> Result<(), AppError> {
    let payload = order_payload(tx, p, order).await?;
    let event = NewEvent {
        event_type,
        entity_type: "Order",
        entity_id: order.id,
        version: order.version,
        payload,
        correlation_id: Some(order.id),
        origin,
    };
    outbox::enqueue(tx, p.tenant_id, &event, time::now())
        .await
        .map_err(store)?;
    Ok(())
}

async fn audit_order(
    tx: &mut Tx,
    p: &Principal,
    action: &str,
    after: &Order,
    before: Option<&Order>,
) -> Result<(), StoreError> {
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: action.into(),
        entity_type: "Order".into(),
        entity_id: after.id.to_string(),
        order_id: Some(after.id),
        before_json: before.map(|b| json!({ "status": b.status, "payment_status": b.payment_status, "total": b.total }).to_string()),
        after_json: Some(json!({ "status": after.status, "payment_status": after.payment_status, "total": after.total }).to_string()),
        request_id: None,
        created_at: time::now(),
    };
    audit::record(tx, &event).await
}

/// Changes an order's status or shipping and raises `OrderUpdated`.
pub async fn update(
    db: &Db,
    p: &Principal,
    id: Uuid,
    change: OrderUpdate,
) -> Result<Order, AppError> {
    p.require(Policy::ManageCommerce)?;
    let (mut tx, before) = begin_locked(db, p, id).await?;
    let mut order = before.clone();
    if let Some(s) = change.status {
        order.status = s;
    }
    if let Some(shipping) = change.shipping_amount {
        check_shipping(shipping)?;
        order.shipping_amount = shipping;
        order.total = order
            .subtotal
            .checked_add(shipping)
            .ok_or_else(|| AppError::BadRequest("The total is too large.".into()))?;
    }
    if order.total < order.amount_paid {
        return Err(AppError::Conflict(
            "The total cannot drop below what has been paid.".into(),
        ));
    }
    order.payment_status = payment_status(order.amount_paid, order.total);
    let now = time::now();
    orders::update_header(&mut tx, p.tenant_id, &order, now)
        .await
        .map_err(store)?;
    let order = orders::get_in(&mut tx, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    raise_order(&mut tx, p, events::ORDER_UPDATED, &order, None).await?;
    audit_order(&mut tx, p, "order.updated", &order, Some(&before))
        .await
        .map_err(store)?;
    tx.commit().await.map_err(store)?;
    get(db, p, id).await
}

/// Starts a transaction holding the order locked (see `orders::lock`) and reads it.
async fn begin_locked(db: &Db, p: &Principal, id: Uuid) -> Result<(Tx, Order), AppError> {
    let mut tx = db.begin().await.map_err(store)?;
    orders::lock(&mut tx, p.tenant_id, id)
        .await
        .map_err(store)?;
    let order = orders::get_in(&mut tx, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    Ok((tx, order))
}

fn payment_status(paid: i64, total: i64) -> PaymentStatus {
    if paid <= 0 && total > 0 {
        PaymentStatus::Unpaid
    } else if paid >= total {
        PaymentStatus::Paid
    } else {
        PaymentStatus::PartiallyPaid
    }
}

/// Records a payment; raises `PaymentAdded`, and `OrderPaid` when it pays the order in full.
pub async fn add_payment(
    db: &Db,
    p: &Principal,
    id: Uuid,
    input: NewPayment,
) -> Result<Order, AppError> {
    p.require(Policy::RecordPayments)?;
    if input.amount <= 0 {
        return Err(AppError::BadRequest(
            "A payment amount must be positive.".into(),
        ));
    }
    let (mut tx, order) = begin_locked(db, p, id).await?;
    let balance = order.total - order.amount_paid;
    if input.amount > balance {
        return Err(AppError::Conflict(format!(
            "The payment exceeds the balance due ({balance} minor units)."
        )));
    }
    let method = input
        .method
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or("manual");
    let source = PaymentSource {
        method,
        reference: input.reference.as_deref(),
        origin: None,
        external_id: None,
    };
    apply_payment(&mut tx, p, order, input.amount, &source).await?;
    tx.commit().await.map_err(store)?;
    get(db, p, id).await
}

/// Marks an order paid in full by recording a payment of its balance. Already paid: unchanged.
pub async fn mark_paid(db: &Db, p: &Principal, id: Uuid) -> Result<Order, AppError> {
    p.require(Policy::RecordPayments)?;
    let (mut tx, order) = begin_locked(db, p, id).await?;
    let balance = order.total - order.amount_paid;
    if order.payment_status != PaymentStatus::Paid {
        let source = PaymentSource {
            method: "manual",
            reference: Some("marked paid"),
            origin: None,
            external_id: None,
        };
        apply_payment(&mut tx, p, order, balance, &source).await?;
    }
    tx.commit().await.map_err(store)?;
    get(db, p, id).await
}

/// Where a payment comes from.
struct PaymentSource<'a> {
    method: &'a str,
    reference: Option<&'a str>,
    /// The ERP it was recorded in (None: recorded here); it is not sent back there.
    origin: Option<Provider>,
    /// The ERP's id for it (deduplicates ERP payments).
    external_id: Option<&'a str>,
}

async fn apply_payment(
    tx: &mut Tx,
    p: &Principal,
    mut order: Order,
    amount: i64,
    source: &PaymentSource<'_>,
) -> Result<(), AppError> {
    let now = time::now();
    let before = order.clone();
    let row = NewPaymentRow {
        amount,
        currency: &order.currency,
        method: source.method,
        reference: source.reference,
        origin: source.origin.map(Provider::as_str).unwrap_or("Local"),
        external_id: source.external_id,
    };
    let payment_id = if amount > 0 {
        Some(
            orders::insert_payment(tx, p.tenant_id, order.id, &row, now)
                .await
                .map_err(store)?,
        )
    } else {
        None
    };
    order.amount_paid += amount;
    order.payment_status = payment_status(order.amount_paid, order.total);
    if order.payment_status == PaymentStatus::Paid {
        order.paid_at = Some(now);
    }
    orders::update_header(tx, p.tenant_id, &order, now)
        .await
        .map_err(store)?;
    let order = orders::get_in(tx, p.tenant_id, order.id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    // The invoice event first: within the order's record group the payment waits for it.
    if order.payment_status == PaymentStatus::Paid && before.payment_status != PaymentStatus::Paid {
        raise_order(tx, p, events::ORDER_PAID, &order, source.origin).await?;
    }
    if let Some(pid) = payment_id {
        let event = NewEvent {
            event_type: events::PAYMENT_ADDED,
            entity_type: "Payment",
            entity_id: pid,
            version: 1,
            payload: payment_payload(&order, pid),
            correlation_id: Some(order.id),
            origin: source.origin,
        };
        outbox::enqueue(tx, p.tenant_id, &event, now)
            .await
            .map_err(store)?;
    }
    audit_order(tx, p, "order.payment_recorded", &order, Some(&before))
        .await
        .map_err(store)
}

/// Sets the status of one item of one order (scoped by both ids) and audits it with the order
/// context. Another order's items — even of the same product — are never touched.
pub async fn set_item_status(
    db: &Db,
    p: &Principal,
    order_id: Uuid,
    item_id: Uuid,
    new: ItemStatus,
) -> Result<Order, AppError> {
    p.require(Policy::ManageCommerce)?;
    let now = time::now();
    let mut tx = db.begin().await.map_err(store)?;
    orders::lock(&mut tx, p.tenant_id, order_id)
        .await
        .map_err(store)?;
    let before = orders::set_item_status(&mut tx, p.tenant_id, order_id, item_id, new, now)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: "order_item.status_changed".into(),
        entity_type: "OrderItem".into(),
        entity_id: item_id.to_string(),
        order_id: Some(order_id),
        before_json: Some(json!({ "status": before }).to_string()),
        after_json: Some(json!({ "status": new }).to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    get(db, p, order_id).await
}

/// One order with items, payments and badges. A Customer user sees only its own orders.
pub async fn get(db: &Db, p: &Principal, id: Uuid) -> Result<Order, AppError> {
    let mut order = orders::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    if p.role == Role::Customer && p.customer_id != Some(order.customer_id) {
        return Err(AppError::NotFound);
    }
    order.sync = sync_status::badges(db, p, "Order", id).await?;
    Ok(order)
}

/// A page of orders, newest first (a Customer user's own only).
pub async fn list(
    db: &Db,
    p: &Principal,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<Order>, AppError> {
    let customer = match p.role {
        Role::Customer => Some(p.customer_id.ok_or(AppError::Forbidden)?),
        _ => None,
    };
    let paging = Paging::new(page, per_page);
    let (Paging { page, per_page }, offset) = (paging, paging.offset());
    let (mut items, total) = orders::list(db, p.tenant_id, customer, per_page, offset)
        .await
        .map_err(store)?;
    for o in &mut items {
        o.sync = sync_status::badges(db, p, "Order", o.id).await?;
    }
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// What became of a payment reported by an ERP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErpPayment {
    /// Recorded on the order (and the order's payment status updated).
    Recorded,
    /// Already recorded earlier (a re-delivered webhook or a CDC repeat).
    AlreadyRecorded,
    /// The order was already paid in full here (the ERP is catching up with a payment taken in
    /// erp-bridge); nothing to record.
    OrderAlreadyPaid,
    /// Cannot be applied; the reason is for an administrator.
    Rejected(String),
}

/// Records a payment that was made in an ERP (a QuickBooks Payment applied to the invoice of
/// one of our orders): once per (provider, external id), never more than the balance due,
/// audited as a system action, and raising events that are not sent back to that ERP.
pub async fn record_erp_payment(
    db: &Db,
    tenant_id: Uuid,
    order_id: Uuid,
    amount: i64,
    provider: Provider,
    external_id: &str,
    reference: &str,
) -> Result<ErpPayment, AppError> {
    let p = Principal::system(tenant_id);
    if amount <= 0 {
        return Ok(ErpPayment::Rejected(format!("{provider} reported a payment of {amount} minor units; only positive amounts are recorded.")));
    }
    let (mut tx, order) = begin_locked(db, &p, order_id).await?;
    if orders::has_external_payment(&mut tx, tenant_id, provider.as_str(), external_id)
        .await
        .map_err(store)?
    {
        return Ok(ErpPayment::AlreadyRecorded);
    }
    let balance = order.total - order.amount_paid;
    if balance <= 0 {
        return Ok(ErpPayment::OrderAlreadyPaid);
    }
    if amount > balance {
        return Ok(ErpPayment::Rejected(format!(
            "{provider} payment {external_id} of {amount} minor units exceeds the balance due on order {} ({balance}); not recorded.",
            order.order_number
        )));
    }
    let source = PaymentSource {
        method: provider.as_str(),
        reference: Some(reference),
        origin: Some(provider),
        external_id: Some(external_id),
    };
    apply_payment(&mut tx, &p, order, amount, &source).await?;
    tx.commit().await.map_err(store)?;
    Ok(ErpPayment::Recorded)
}
