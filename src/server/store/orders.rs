//! Orders, their items and payments. An order item is always addressed by its order id AND its
//! own id — never by product — so a change to one order can never touch another's items.

use super::{Db, StoreResult, Tx};
use crate::domain::commerce::{ItemStatus, Order, OrderItem, OrderStatus, Payment, PaymentStatus};
use crate::{on_conn, on_tx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    order_number: i64,
    customer_id: Uuid,
    customer_name: String,
    status: String,
    payment_status: String,
    currency: String,
    subtotal: i64,
    shipping_amount: i64,
    total: i64,
    amount_paid: i64,
    version: i64,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
}

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Order {
            id: r.id,
            order_number: r.order_number,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::Draft),
            payment_status: PaymentStatus::parse(&r.payment_status)
                .unwrap_or(PaymentStatus::Unpaid),
            currency: r.currency,
            subtotal: r.subtotal,
            shipping_amount: r.shipping_amount,
            total: r.total,
            amount_paid: r.amount_paid,
            version: r.version,
            created_at: r.created_at,
            paid_at: r.paid_at,
            items: Vec::new(),
            payments: Vec::new(),
            sync: Vec::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: Uuid,
    line_number: i64,
    product_id: Uuid,
    sku: String,
    description: String,
    quantity: i64,
    unit_price: i64,
    amount: i64,
    status: String,
}

impl From<ItemRow> for OrderItem {
    fn from(r: ItemRow) -> Self {
        OrderItem {
            id: r.id,
            line_number: r.line_number,
            product_id: r.product_id,
            sku: r.sku,
            description: r.description,
            quantity: r.quantity,
            unit_price: r.unit_price,
            amount: r.amount,
            status: ItemStatus::parse(&r.status).unwrap_or(ItemStatus::Pending),
        }
    }
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: Uuid,
    amount: i64,
    currency: String,
    method: String,
    reference: Option<String>,
    origin: String,
    received_at: DateTime<Utc>,
}

const ORDER_SELECT: &str = "SELECT o.id, o.order_number, o.customer_id, c.name AS customer_name, o.status, \
    o.payment_status, o.currency, o.subtotal, o.shipping_amount, o.total, o.amount_paid, o.version, o.created_at, \
    o.paid_at FROM orders o JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id";
const ITEM_COLUMNS: &str =
    "id, line_number, product_id, sku, description, quantity, unit_price, amount, status";

/// The header of a new order.
pub struct NewOrderRow<'a> {
    /// Customer.
    pub customer_id: Uuid,
    /// Status.
    pub status: OrderStatus,
    /// Currency.
    pub currency: &'a str,
    /// Sum of lines.
    pub subtotal: i64,
    /// Shipping.
    pub shipping_amount: i64,
}

/// Inserts an order header with the tenant's next order number; returns (id, number).
pub async fn insert(
    tx: &mut Tx,
    tenant_id: Uuid,
    o: &NewOrderRow<'_>,
    now: DateTime<Utc>,
) -> StoreResult<(Uuid, i64)> {
    let id = Uuid::now_v7();
    let sql = "INSERT INTO orders (id, tenant_id, order_number, customer_id, status, payment_status, currency, \
        subtotal, shipping_amount, total, placed_at, created_at, updated_at) \
        VALUES ($1, $2, (SELECT COALESCE(MAX(order_number), 10000) + 1 FROM orders WHERE tenant_id = $2), \
        $3, $4, 'Unpaid', $5, $6, $7, $8, $9, $10, $10) RETURNING order_number";
    let placed_at = (o.status != OrderStatus::Draft).then_some(now);
    let number: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(id).bind(tenant_id).bind(o.customer_id).bind(o.status.as_str()).bind(o.currency)
        .bind(o.subtotal).bind(o.shipping_amount).bind(o.subtotal + o.shipping_amount).bind(placed_at).bind(now)
        .fetch_one(c).await)?;
    Ok((id, number))
}

/// Inserts one item of an order.
pub async fn insert_item(
    tx: &mut Tx,
    tenant_id: Uuid,
    order_id: Uuid,
    item: &OrderItem,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO order_items (id, tenant_id, order_id, product_id, line_number, sku, description, quantity, \
        unit_price, amount, status, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(item.id).bind(tenant_id).bind(order_id).bind(item.product_id).bind(item.line_number).bind(&item.sku)
        .bind(&item.description).bind(item.quantity).bind(item.unit_price).bind(item.amount)
        .bind(item.status.as_str()).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// An order of the tenant with its items and payments.
pub async fn get(db: &Db, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>> {
    let mut tx = db.begin().await?;
    let order = get_in(&mut tx, tenant_id, id).await?;
    tx.commit().await?;
    Ok(order)
}

/// Like [`get`], inside the caller's transaction (the state the transaction will commit).
pub async fn get_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<Order>> {
    let sql = format!("{ORDER_SELECT} WHERE o.tenant_id = $1 AND o.id = $2");
    let Some(row) = on_tx!(tx, c => sqlx::query_as::<_, OrderRow>(&sql).bind(tenant_id).bind(id).fetch_optional(c).await)?
    else {
        return Ok(None);
    };
    let mut order: Order = row.into();
    let items_sql = format!("SELECT {ITEM_COLUMNS} FROM order_items WHERE tenant_id = $1 AND order_id = $2 ORDER BY line_number");
    let items = on_tx!(tx, c => sqlx::query_as::<_, ItemRow>(&items_sql).bind(tenant_id).bind(id).fetch_all(c).await)?;
    order.items = items.into_iter().map(Into::into).collect();
    let pay_sql =
        "SELECT id, amount, currency, method, reference, origin, received_at FROM payments \
        WHERE tenant_id = $1 AND order_id = $2 ORDER BY received_at, id";
    let payments = on_tx!(tx, c => sqlx::query_as::<_, PaymentRow>(pay_sql).bind(tenant_id).bind(id).fetch_all(c).await)?;
    order.payments = payments
        .into_iter()
        .map(|p| Payment {
            id: p.id,
            amount: p.amount,
            currency: p.currency,
            method: p.method,
            reference: p.reference,
            origin: p.origin,
            received_at: p.received_at,
        })
        .collect();
    Ok(Some(order))
}

/// One page of the tenant's orders, newest first, optionally for one customer; and the total.
pub async fn list(
    db: &Db,
    tenant_id: Uuid,
    customer: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Order>, i64)> {
    let sql = format!(
        "{ORDER_SELECT} WHERE o.tenant_id = $1 AND ($2 IS NULL OR o.customer_id = $2) \
         ORDER BY o.order_number DESC LIMIT $3 OFFSET $4"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, OrderRow>(&sql)
        .bind(tenant_id).bind(customer).bind(limit).bind(offset).fetch_all(p).await)?;
    let count =
        "SELECT COUNT(*) FROM orders WHERE tenant_id = $1 AND ($2 IS NULL OR customer_id = $2)";
    let total: i64 = on_conn!(db.read(), p => sqlx::query_scalar(count).bind(tenant_id).bind(customer).fetch_one(p).await)?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// The tenant's orders placed in `[from, to)`, by number (headers only: no items, payments or
/// badges), at most `limit`.
pub async fn placed_between(
    db: &Db,
    tenant_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let sql = format!(
        "{ORDER_SELECT} WHERE o.tenant_id = $1 AND o.created_at >= $2 AND o.created_at < $3 \
         ORDER BY o.order_number LIMIT $4"
    );
    let rows = on_conn!(db.read(), p => sqlx::query_as::<_, OrderRow>(&sql)
        .bind(tenant_id).bind(from).bind(to).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Writes an order's header fields and bumps its version.
pub async fn update_header(
    tx: &mut Tx,
    tenant_id: Uuid,
    o: &Order,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "UPDATE orders SET status = $3, payment_status = $4, shipping_amount = $5, subtotal = $6, total = $7, \
        amount_paid = $8, paid_at = $9, updated_at = $10, version = version + 1 WHERE tenant_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(tenant_id).bind(o.id).bind(o.status.as_str()).bind(o.payment_status.as_str()).bind(o.shipping_amount)
        .bind(o.subtotal).bind(o.total).bind(o.amount_paid).bind(o.paid_at).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets one item's status, addressed by order id and item id; returns the previous status, or
/// None when that order of that tenant has no such item.
pub async fn set_item_status(
    tx: &mut Tx,
    tenant_id: Uuid,
    order_id: Uuid,
    item_id: Uuid,
    status: ItemStatus,
    now: DateTime<Utc>,
) -> StoreResult<Option<ItemStatus>> {
    let read = "SELECT status FROM order_items WHERE tenant_id = $1 AND order_id = $2 AND id = $3";
    let before: Option<String> = on_tx!(tx, c => sqlx::query_scalar(read)
        .bind(tenant_id).bind(order_id).bind(item_id).fetch_optional(c).await)?;
    let Some(before) = before else {
        return Ok(None);
    };
    let write = "UPDATE order_items SET status = $4, updated_at = $5 WHERE tenant_id = $1 AND order_id = $2 AND id = $3";
    on_tx!(tx, c => sqlx::query(write)
        .bind(tenant_id).bind(order_id).bind(item_id).bind(status.as_str()).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Some(
        ItemStatus::parse(&before).unwrap_or(ItemStatus::Pending),
    ))
}

/// A payment to record.
pub struct NewPaymentRow<'a> {
    /// Amount.
    pub amount: i64,
    /// Currency.
    pub currency: &'a str,
    /// Method.
    pub method: &'a str,
    /// Reference.
    pub reference: Option<&'a str>,
    /// `Local` or a provider name.
    pub origin: &'a str,
    /// The ERP's payment id, for payments that came from an ERP (deduplicated).
    pub external_id: Option<&'a str>,
}

/// Inserts a payment; returns its id.
pub async fn insert_payment(
    tx: &mut Tx,
    tenant_id: Uuid,
    order_id: Uuid,
    p: &NewPaymentRow<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let sql = "INSERT INTO payments (id, tenant_id, order_id, amount, currency, method, reference, origin, external_id, \
        received_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(id).bind(tenant_id).bind(order_id).bind(p.amount).bind(p.currency).bind(p.method).bind(p.reference)
        .bind(p.origin).bind(p.external_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Locks an order for the rest of the transaction before a read-modify-write (payments,
/// status), so concurrent writers on PostgreSQL queue instead of overwriting each other.
/// Dialect difference: SQLite needs no row lock — its single writer connection already
/// serializes write transactions.
pub async fn lock(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT id FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut **t)
            .await?;
    }
    Ok(())
}

/// Whether a payment from an ERP was already recorded (ERP payments are deduplicated by
/// (tenant, origin, external id)).
pub async fn has_external_payment(
    tx: &mut Tx,
    tenant_id: Uuid,
    origin: &str,
    external_id: &str,
) -> StoreResult<bool> {
    let sql =
        "SELECT count(*) FROM payments WHERE tenant_id = $1 AND origin = $2 AND external_id = $3";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(tenant_id).bind(origin).bind(external_id).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Ids of the tenant's placed or fulfilled orders (what an ERP may receive), oldest first, at
/// most `limit`.
pub async fn billable_ids(
    db: &Db,
    tenant_id: Uuid,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> StoreResult<Vec<Uuid>> {
    let sql = "SELECT id FROM orders WHERE tenant_id = $1 AND status IN ('Placed', 'Fulfilled') \
        AND ($2 IS NULL OR updated_at >= $2) ORDER BY order_number LIMIT $3";
    Ok(
        on_conn!(db.read(), p => sqlx::query_scalar(sql).bind(tenant_id).bind(since).bind(limit).fetch_all(p).await)?,
    )
}
