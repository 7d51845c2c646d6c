//! The commerce records erp-bridge keeps in step with the ERPs: customers, products, orders with
//! their items, payments. Money is integer minor units (cents) with an ISO currency code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sync::SyncBadge;

/// Most units of one order line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Highest price per unit, in minor units (10 million in a two-decimal currency).
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000;
/// Highest shipping charge, in minor units.
pub const MAX_SHIPPING: i64 = 1_000_000_000_000_000;
/// Most lines of one order. With the bounds above an order's total fits an i64.
pub const MAX_ORDER_ITEMS: usize = 1000;
/// Longest customer and product name, and SKU, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest SKU, in characters.
pub const MAX_SKU_CHARS: usize = 100;

/// A postal address; every part optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Address {
    /// Street line 1.
    pub line1: Option<String>,
    /// Street line 2.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State / region code.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// What a caller sends to create or replace a customer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CustomerInput {
    /// Display name: 1 to 200 characters, not only spaces (names need not be unique).
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 200, pattern = "[^\\s\u{85}]")
    )]
    pub name: String,
    /// Contact email: empty, or an address with an `@`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^$|@"))]
    pub email: Option<String>,
    /// Contact phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Billing address.
    #[serde(default)]
    pub billing: Address,
    /// Shipping address.
    #[serde(default)]
    pub shipping: Address,
}

/// A customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Customer {
    /// Id.
    pub id: Uuid,
    /// Per-tenant number.
    pub customer_number: i64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Billing address.
    pub billing: Address,
    /// Shipping address.
    pub shipping: Address,
    /// Incremented by every change.
    pub version: i64,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Sync state per connected ERP (empty in lists).
    #[serde(default)]
    pub sync: Vec<SyncBadge>,
}

/// What a caller sends to create or replace a product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductInput {
    /// Stock keeping unit, unique per tenant: 1 to 100 characters, not only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 100, pattern = "[^\\s\u{85}]")
    )]
    pub sku: String,
    /// Name: 1 to 200 characters, not only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 200, pattern = "[^\\s\u{85}]")
    )]
    pub name: String,
    /// Price per unit in minor units.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1_000_000_000))]
    pub unit_price: i64,
    /// ISO 4217 code, upper case (default USD).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = super::money::currency_schema))]
    pub currency: Option<String>,
}

/// A product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Product {
    /// Id.
    pub id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Price per unit in minor units.
    pub unit_price: i64,
    /// Currency.
    pub currency: String,
    /// Incremented by every change.
    pub version: i64,
}

/// Order lifecycle (DESIGN § 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum OrderStatus {
    /// Being put together.
    Draft,
    /// Placed by the customer.
    Placed,
    /// Shipped in full.
    Fulfilled,
    /// Cancelled.
    Cancelled,
}

/// Payment state of an order; "paid" means `Paid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum PaymentStatus {
    /// Nothing paid.
    Unpaid,
    /// Some but not all paid.
    PartiallyPaid,
    /// Paid in full.
    Paid,
}

/// Status of one order item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ItemStatus {
    /// Not yet handled.
    Pending,
    /// Stock allocated.
    Allocated,
    /// Shipped.
    Shipped,
    /// Cancelled.
    Cancelled,
}

macro_rules! stored_names {
    ($t:ty { $($v:ident),* }) => {
        impl $t {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => stringify!($v)),* }
            }
            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $(stringify!($v) => Some(Self::$v),)* _ => None }
            }
        }
    };
}
stored_names!(OrderStatus {
    Draft,
    Placed,
    Fulfilled,
    Cancelled
});
stored_names!(PaymentStatus {
    Unpaid,
    PartiallyPaid,
    Paid
});
stored_names!(ItemStatus {
    Pending,
    Allocated,
    Shipped,
    Cancelled
});

/// One line of a new order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewOrderItem {
    /// Product.
    pub product_id: Uuid,
    /// Quantity.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1_000_000))]
    pub quantity: i64,
    /// Price per unit; the product's price when omitted.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1_000_000_000))]
    pub unit_price: Option<i64>,
}

/// A new order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewOrder {
    /// Customer.
    pub customer_id: Uuid,
    /// Shipping charge in minor units.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)
    )]
    pub shipping_amount: i64,
    /// Currency, upper case (default USD); every product must be priced in it (else 409).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = super::money::currency_schema))]
    pub currency: Option<String>,
    /// Lines: 1 to 1,000.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 1000))]
    pub items: Vec<NewOrderItem>,
}

/// A change to an order's header.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrderUpdate {
    /// New status.
    #[serde(default)]
    pub status: Option<OrderStatus>,
    /// New shipping charge (the new total may not fall below what was paid, else 409).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)
    )]
    pub shipping_amount: Option<i64>,
}

/// An order item: belongs to exactly one order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrderItem {
    /// Id.
    pub id: Uuid,
    /// Position in the order (1-based).
    pub line_number: i64,
    /// Product.
    pub product_id: Uuid,
    /// SKU at order time.
    pub sku: String,
    /// Description at order time.
    pub description: String,
    /// Quantity.
    pub quantity: i64,
    /// Price per unit.
    pub unit_price: i64,
    /// quantity × unit_price.
    pub amount: i64,
    /// Status.
    pub status: ItemStatus,
}

/// A payment against an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Id.
    pub id: Uuid,
    /// Amount in minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// How it was paid.
    pub method: String,
    /// Reference (cheque number, ERP payment id, …).
    pub reference: Option<String>,
    /// `Local` or the ERP it came from.
    pub origin: String,
    /// When it was received (UTC).
    pub received_at: DateTime<Utc>,
}

/// A payment a caller records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPayment {
    /// Amount in minor units: at least 1, at most the order's balance (else 409).
    #[cfg_attr(
        feature = "ssr",
        schema(minimum = 1, maximum = 1_000_000_000_000_000_000_i64)
    )]
    pub amount: i64,
    /// How it was paid (card, transfer, cheque, …).
    #[serde(default)]
    pub method: Option<String>,
    /// Reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// An order with its items, payments and sync state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Order {
    /// Id.
    pub id: Uuid,
    /// Per-tenant number (the ERP document number).
    pub order_number: i64,
    /// Customer.
    pub customer_id: Uuid,
    /// Customer name.
    pub customer_name: String,
    /// Status.
    pub status: OrderStatus,
    /// Payment status.
    pub payment_status: PaymentStatus,
    /// Currency.
    pub currency: String,
    /// Sum of item amounts.
    pub subtotal: i64,
    /// Shipping.
    pub shipping_amount: i64,
    /// subtotal + shipping.
    pub total: i64,
    /// Sum of payments.
    pub amount_paid: i64,
    /// Incremented by every change.
    pub version: i64,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Paid in full at (UTC).
    pub paid_at: Option<DateTime<Utc>>,
    /// Lines (empty in lists).
    #[serde(default)]
    pub items: Vec<OrderItem>,
    /// Payments (empty in lists).
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// Sync state per connected ERP.
    #[serde(default)]
    pub sync: Vec<SyncBadge>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Rows in all pages.
    pub total: i64,
}

pub use super::money::format_money;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in [
            OrderStatus::Draft,
            OrderStatus::Placed,
            OrderStatus::Fulfilled,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ItemStatus::parse("Shipped"), Some(ItemStatus::Shipped));
        assert_eq!(PaymentStatus::parse("paid"), None);
    }
}
