//! Webhook ingestion rules: route each notification to the tenant connected to its company
//! (unique (provider, external_company_id)), write it to the inbox once, and record the POST's
//! receipt in the same transaction. Unroutable events are kept in the receipt only.

use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::server::erp::quickbooks::webhook::Notification;
use crate::server::store::inbox::{self, InboxRow};
use crate::server::store::webhook_receipts::{self, Receipt};
use crate::server::store::{connections, Db, StoreError};

/// The provider these webhooks come from.
pub const PROVIDER: &str = "QuickBooks";

/// Routes and stores the notifications with the receipt; returns (new events, unroutable events).
pub async fn ingest_quickbooks(
    db: &Db,
    mut receipt: Receipt,
    notifications: &[Notification],
) -> Result<(usize, usize), StoreError> {
    let realms: BTreeSet<&str> = notifications.iter().map(|n| n.realm_id.as_str()).collect();
    let mut tenants = Vec::new();
    for realm in &realms {
        tenants.push((
            *realm,
            connections::tenant_for_company(db, PROVIDER, realm).await?,
        ));
    }
    let tenant_of = |realm: &str| {
        tenants
            .iter()
            .find(|(r, _)| *r == realm)
            .and_then(|(_, t)| *t)
    };
    let routed_tenants: BTreeSet<Uuid> = tenants.iter().filter_map(|(_, t)| *t).collect();
    let unroutable = notifications
        .iter()
        .filter(|n| tenant_of(&n.realm_id).is_none())
        .count();
    if unroutable > 0 {
        tracing::warn!(unroutable, realms = ?realms, "QuickBooks webhook events for companies no tenant is connected to");
    }
    receipt.external_company_id =
        Some(realms.iter().copied().collect::<Vec<_>>().join(",")).filter(|s| !s.is_empty());
    receipt.tenant_id = (routed_tenants.len() == 1)
        .then(|| routed_tenants.iter().next().copied())
        .flatten();
    receipt.routed = unroutable == 0;
    receipt.event_count = i64::try_from(notifications.len()).unwrap_or(i64::MAX);
    let rows: Vec<InboxRow> = notifications
        .iter()
        .filter_map(|n| {
            let tenant_id = tenant_of(&n.realm_id)?;
            Some(InboxRow {
                id: Uuid::now_v7(),
                tenant_id,
                provider: PROVIDER.into(),
                external_event_id: n.event_id.clone(),
                external_company_id: Some(n.realm_id.clone()),
                event_type: Some(n.operation.clone()),
                entity_type: Some(n.entity.clone()),
                entity_id: Some(n.entity_id.clone()),
                payload: Some(
                    json!({ "entity": n.entity, "id": n.entity_id, "operation": n.operation, "occurred_at": n.occurred_at })
                        .to_string(),
                ),
                received_at: receipt.received_at,
                status: "Pending".into(),
            })
        })
        .collect();
    let mut tx = db.begin().await?;
    let new = inbox::insert_batch(&mut tx, &rows).await?;
    webhook_receipts::insert(&mut tx, &receipt).await?;
    tx.commit().await?;
    Ok((new, unroutable))
}

/// Records the receipt of a refused POST (bad signature, unreadable body).
pub async fn record_refusal(db: &Db, receipt: &Receipt) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    webhook_receipts::insert(&mut tx, receipt).await?;
    tx.commit().await
}
