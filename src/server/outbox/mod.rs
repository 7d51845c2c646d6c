//! Reliable delivery to the ERPs (DESIGN § 4).
//!
//! [`enqueue`] records an event inside the caller's transaction — one row per connected
//! provider, each with its own retry schedule — so a domain change and its event commit or roll
//! back together. The [`worker`] delivers due rows through the providers' adapters under a
//! per-(tenant, provider) lease; [`breaker`] pauses a failing provider; [`maintenance`] prunes.

pub mod breaker;
pub mod maintenance;
pub mod retry;
pub mod scrub;
pub mod worker;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::connection::Provider;
use crate::server::store::outbox::{self, status, OutboxRow};
use crate::server::store::{connections, StoreResult, Tx};

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
}

/// Records `event` in the caller's transaction: a Pending row per connected provider, a
/// completed "skipped" row where settings say not to send, or one skipped row without a target
/// when no provider is connected. Returns the rows written.
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: Uuid,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> StoreResult<Vec<OutboxRow>> {
    let targets = connections::delivery_targets(tx, tenant_id).await?;
    let payload = event.payload.to_string();
    let mut rows = Vec::new();
    for target in &targets {
        let Ok(provider) = target.provider.parse::<Provider>() else {
            continue;
        };
        if event.origin == Some(provider) {
            continue; // no echo: the change came from this ERP
        }
        let key = format!(
            "{}:{}:{}:{}:{}",
            provider.slug(),
            event.event_type,
            event.entity_type,
            event.entity_id,
            event.version
        );
        let mut row = new_row(tenant_id, event, &payload, now);
        row.target_system = Some(provider.as_str().to_string());
        row.idempotency_key = Some(key);
        if let Some(reason) = skip_reason(target, event.entity_type) {
            row.status = status::COMPLETED.to_string();
            row.processed_at = Some(now);
            row.last_error = Some(reason);
        }
        if outbox::insert(tx, &row).await? {
            rows.push(row);
        }
    }
    if targets.is_empty() {
        let mut row = new_row(tenant_id, event, &payload, now);
        row.status = status::COMPLETED.to_string();
        row.processed_at = Some(now);
        row.last_error = Some("Skipped: no ERP is connected".to_string());
        outbox::insert(tx, &row).await?;
        rows.push(row);
    }
    Ok(rows)
}

fn new_row(tenant_id: Uuid, event: &NewEvent, payload: &str, now: DateTime<Utc>) -> OutboxRow {
    OutboxRow {
        id: Uuid::now_v7(),
        tenant_id,
        event_type: event.event_type.to_string(),
        entity_type: event.entity_type.to_string(),
        entity_id: event.entity_id.to_string(),
        payload: payload.to_string(),
        idempotency_key: None,
        status: status::PENDING.to_string(),
        target_system: None,
        created_at: now,
        processed_at: None,
        scheduled_for: Some(now),
        retry_count: 0,
        max_retries: DEFAULT_MAX_RETRIES,
        last_error: None,
        correlation_id: event.correlation_id,
        locked_by: None,
        locked_until: None,
        lease_token: None,
    }
}

/// Why a connection's settings keep this event from being sent, if they do.
fn skip_reason(target: &connections::DeliveryTarget, entity_type: &str) -> Option<String> {
    if !target.auto_sync_enabled {
        return Some("Skipped: auto-sync is off".to_string());
    }
    let (enabled, what) = match entity_type {
        "Customer" => (target.sync_customers, "customer"),
        "Order" => (target.sync_invoices, "invoice/order"),
        "Payment" => (target.sync_payments, "payment"),
        _ => (true, ""),
    };
    (!enabled).then(|| format!("Skipped: {what} sync is off"))
}
