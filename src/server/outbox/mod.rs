//! Reliable delivery to the ERPs (DESIGN § 4).
//!
//! [`enqueue`] records an event inside the caller's transaction — one row per connected
//! provider, each with its own retry schedule — so a domain change and its event commit or roll
//! back together. The [`worker`] delivers due rows through the providers' adapters under a
//! per-(tenant, provider) lease; [`breaker`] pauses a failing provider; [`maintenance`] prunes.

pub mod breaker;
pub mod maintenance;
mod outcomes;
pub mod retry;
pub mod scrub;
pub mod worker;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::connection::Provider;
use crate::server::store::outbox::{self, EventRows};
use crate::server::store::{StoreResult, Tx};

/// Default attempts before a row is Abandoned.
pub const DEFAULT_MAX_RETRIES: i64 = 5;

/// An event raised by a domain write.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// `OrderPaid`, `CustomerCreated`, …
    pub event_type: &'static str,
    /// `Order`, `Customer`, `Payment`.
    pub entity_type: &'static str,
    /// Our record id.
    pub entity_id: Uuid,
    /// The record's version after the change (part of the idempotency key).
    pub version: i64,
    /// The canonical record.
    pub payload: Value,
    /// Ties related events (an order's payment to the order, …).
    pub correlation_id: Option<Uuid>,
    /// The ERP the change came from, which must not receive it back.
    pub origin: Option<Provider>,
}

/// Event names (they never change: stored rows refer to them).
pub mod events {
    /// A customer was created.
    pub const CUSTOMER_CREATED: &str = "CustomerCreated";
    /// A customer changed.
    pub const CUSTOMER_UPDATED: &str = "CustomerUpdated";
    /// An order was created.
    pub const ORDER_CREATED: &str = "OrderCreated";
    /// An order changed.
    pub const ORDER_UPDATED: &str = "OrderUpdated";
    /// An order became paid in full.
    pub const ORDER_PAID: &str = "OrderPaid";
    /// A payment was recorded.
    pub const PAYMENT_ADDED: &str = "PaymentAdded";
    /// An Admin asked for a customer to be sent again (manual sync).
    pub const CUSTOMER_SYNC_REQUESTED: &str = "CustomerSyncRequested";
    /// An Admin asked for an order to be sent (manual sync): invoiced even before it is paid.
    pub const ORDER_SYNC_REQUESTED: &str = "OrderSyncRequested";
}

/// Records `event` in the caller's transaction: a Pending row per connected provider, a
/// completed "skipped" row where settings say not to send, or one skipped row without a target
/// when no provider is connected — in one statement. Returns each written row's target
/// provider (None for the no-provider row).
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: Uuid,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Option<String>>> {
    let payload = event.payload.to_string();
    let entity_id = event.entity_id.to_string();
    let rows = EventRows {
        tenant_id,
        event_type: event.event_type,
        entity_type: event.entity_type,
        entity_id: &entity_id,
        version: event.version,
        payload: &payload,
        correlation_id: event.correlation_id,
        origin: event.origin.map(Provider::as_str),
        max_retries: DEFAULT_MAX_RETRIES,
        now,
    };
    outbox::insert_for_connections(tx, &rows).await
}
