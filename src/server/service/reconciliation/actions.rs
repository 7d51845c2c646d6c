//! The actions on the report's rows — re-send, adopt, dismiss — each audited with what it did.

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::customers::OurCustomer;
use super::{qbo, read_error, scope};
use crate::domain::reconcile::{ReconAction, ReconActionInput};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::quickbooks::adapter::{invoice_voided, metadata};
use crate::server::erp::quickbooks::client::QboError;
use crate::server::erp::quickbooks::connector::{QuickBooks, PROVIDER};
use crate::server::erp::quickbooks::reconcile::{marker_order, ReadError};
use crate::server::service::errors::store;
use crate::server::service::manual_sync::{manual_sync, ManualSyncInput, SyncScope};
use crate::server::store::{audit, customers, mappings, orders, reconciliation, Db};
use crate::server::time;

async fn audit_action(
    db: &Db,
    p: &Principal,
    input: &ReconActionInput,
    after: Value,
    dismiss: bool,
) -> Result<(), AppError> {
    let now = time::now();
    let mut tx = db.begin().await.map_err(store)?;
    if dismiss {
        let by = p.actor.id().to_string();
        reconciliation::dismiss(&mut tx, p.tenant_id, PROVIDER, input.key(), &by, now)
            .await
            .map_err(store)?;
    }
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: format!(
            "reconciliation.{}",
            match input.action() {
                ReconAction::Resend => "resent",
                ReconAction::Adopt => "adopted",
                ReconAction::Dismiss => "dismissed",
            }
        ),
        entity_type: if input.order_id().is_some() {
            "Order"
        } else if input.customer_id().is_some() {
            "Customer"
        } else {
            "Invoice"
        }
        .into(),
        entity_id: input
            .order_id()
            .or(input.customer_id())
            .map(|o| o.to_string())
            .or_else(|| input.external_id().map(str::to_string))
            .unwrap_or_else(|| input.key().to_string()),
        order_id: input.order_id(),
        before_json: Some(json!({ "kind": input.kind().code(), "key": input.key(), "quickbooks_id": input.external_id() }).to_string()),
        after_json: Some(after.to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)
}

/// Acts on one row of the report; returns what was done, in words.
pub async fn act(
    db: &Db,
    qb: Option<&QuickBooks>,
    p: &Principal,
    input: ReconActionInput,
) -> Result<String, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let qb = qbo(qb)?;
    if input.key().is_empty() || input.key().chars().count() > 200 {
        return Err(AppError::BadRequest(
            "key: the row's key (1 to 200 characters) is required.".into(),
        ));
    }
    match &input {
        ReconActionInput::Dismiss { .. } => {
            audit_action(db, p, &input, json!({ "dismissed": true }), true).await?;
            Ok("Dismissed: the report no longer lists it.".into())
        }
        ReconActionInput::Resend { order_id, .. } => {
            let forgot = resend(db, qb, p, &input, Resent::Order(*order_id)).await?;
            Ok(if forgot {
                "Queued again; the mapping to the deleted invoice was forgotten first.".into()
            } else {
                "Queued again from the order's current state.".into()
            })
        }
        ReconActionInput::Adopt {
            order_id,
            external_id: invoice_id,
            ..
        } => {
            let invoice_id = invoice_id.clone();
            adopt(db, qb, p, *order_id, &invoice_id).await?;
            audit_action(db, p, &input, json!({ "mapped_to": invoice_id }), false).await?;
            Ok(format!("Invoice {invoice_id} is now the order's mapping."))
        }
        ReconActionInput::ResendCustomer { customer_id, .. } => {
            let forgot = resend(db, qb, p, &input, Resent::Customer(*customer_id)).await?;
            Ok(if forgot {
                "Queued again; the link to the customer QuickBooks no longer has was forgotten first.".into()
            } else {
                "Queued again: QuickBooks gets the customer's current name, email and addresses."
                    .into()
            })
        }
        ReconActionInput::AdoptCustomer {
            customer_id,
            external_id,
            ..
        } => {
            let their_id = external_id.clone();
            adopt_customer(db, qb, p, *customer_id, &their_id).await?;
            audit_action(db, p, &input, json!({ "mapped_to": their_id }), false).await?;
            Ok(format!(
                "QuickBooks customer {their_id} is now the customer's mapping."
            ))
        }
    }
}

/// What a re-send queues again.
#[derive(Clone, Copy)]
enum Resent {
    Order(Uuid),
    Customer(Uuid),
}

/// Queues the record again from its current state (its mapping forgotten first when QuickBooks no
/// longer has what it names), audited; returns whether a mapping was forgotten.
async fn resend(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    input: &ReconActionInput,
    what: Resent,
) -> Result<bool, AppError> {
    let (entity_type, their_entity, scope, id) = match what {
        Resent::Order(id) => ("Order", "Invoice", SyncScope::Order, id),
        Resent::Customer(id) => ("Customer", "Customer", SyncScope::Customer, id),
    };
    let forgot = forget_if_gone(db, qb, p, entity_type, their_entity, id).await?;
    let result = manual_sync(
        db,
        p,
        "quickbooks",
        ManualSyncInput {
            entity_type: scope,
            entity_ids: Some(vec![id]),
            since: None,
        },
    )
    .await?;
    let after =
        json!({ "forgot_mapping": forgot, "queued": result.successful, "run_id": result.run_id });
    audit_action(db, p, input, after, false).await?;
    Ok(forgot)
}

/// The record `entity` `id` of the tenant's company, or None when QuickBooks no longer has it.
async fn read_record(
    qb: &QuickBooks,
    tenant_id: Uuid,
    entity: &str,
    id: &str,
) -> Result<(String, Option<Value>), AppError> {
    let access = qb
        .access(tenant_id)
        .await
        .map_err(|e| read_error(ReadError::Access(e)))?;
    match qb
        .client
        .read(&access.realm, &access.token, entity, id)
        .await
    {
        Ok(doc) if !doc.is_null() => Ok((access.realm, Some(doc))),
        Ok(_) => Ok((access.realm, None)),
        Err(QboError::Fault { fault, .. }) if fault.code() == "610" => Ok((access.realm, None)),
        Err(e) => Err(read_error(ReadError::Qbo(e))),
    }
}

/// Forgets the mapping of our record `ours` (an `entity_type` mapped to QuickBooks `their_entity`)
/// when QuickBooks no longer has the record it names.
async fn forget_if_gone(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    entity_type: &'static str,
    their_entity: &str,
    ours: Uuid,
) -> Result<bool, AppError> {
    let access = qb
        .access(p.tenant_id)
        .await
        .map_err(|e| read_error(ReadError::Access(e)))?;
    let s = scope(p.tenant_id, &access.realm, entity_type);
    let Some(m) = mappings::by_ours(db, s, &ours.to_string())
        .await
        .map_err(store)?
    else {
        return Ok(false);
    };
    let (_, doc) = read_record(qb, p.tenant_id, their_entity, &m.external_id).await?;
    if doc.is_some() {
        return Ok(false);
    }
    mappings::forget(db, s, &ours.to_string())
        .await
        .map_err(store)
}

/// Records `external_id` as the mapping of our `entity_type` record `ours`, unless another of
/// ours has it.
async fn map_to(
    db: &Db,
    p: &Principal,
    realm: &str,
    entity_type: &'static str,
    ours: Uuid,
    external_id: &str,
    doc: &Value,
) -> Result<(), AppError> {
    let s = scope(p.tenant_id, realm, entity_type);
    if let Some(other) = mappings::by_theirs(db, s, external_id)
        .await
        .map_err(store)?
    {
        if other.prometheus_id != ours.to_string() {
            return Err(AppError::Conflict(format!(
                "QuickBooks record {external_id} is already the mapping of another {}.",
                entity_type.to_lowercase()
            )));
        }
    }
    let m = mappings::Mapping {
        prometheus_id: ours.to_string(),
        external_id: external_id.to_string(),
        sync_token: doc["SyncToken"].as_str().map(str::to_string),
        metadata: Some(metadata(doc).to_string()),
    };
    mappings::upsert(db, s, &m, Utc::now()).await.map_err(store)
}

/// Maps the customer to a live QuickBooks customer that carries its name.
async fn adopt_customer(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    customer_id: Uuid,
    their_id: &str,
) -> Result<(), AppError> {
    let c = customers::get(db, p.tenant_id, customer_id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let (realm, doc) = read_record(qb, p.tenant_id, "Customer", their_id).await?;
    let doc = doc.ok_or_else(|| {
        AppError::Conflict(format!("QuickBooks no longer has customer {their_id}."))
    })?;
    let ours = OurCustomer {
        id: c.id,
        number: c.customer_number,
        name: c.name,
        email: c.email,
    };
    let named = doc["DisplayName"]
        .as_str()
        .is_some_and(|n| ours.display_names().iter().any(|d| d == n));
    if !named || doc["Active"].as_bool() == Some(false) {
        return Err(AppError::Conflict(format!(
            "QuickBooks customer {their_id} is not an active customer named like this one; it cannot be adopted."
        )));
    }
    map_to(db, p, &realm, "Customer", customer_id, their_id, &doc).await
}

/// Maps the order to an invoice that carries its marker.
async fn adopt(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    order_id: Uuid,
    invoice_id: &str,
) -> Result<(), AppError> {
    let (realm, doc) = read_record(qb, p.tenant_id, "Invoice", invoice_id).await?;
    let doc = doc.ok_or_else(|| {
        AppError::Conflict(format!("QuickBooks no longer has invoice {invoice_id}."))
    })?;
    if marker_order(&doc) != Some(order_id) || invoice_voided(&doc) {
        return Err(AppError::Conflict(format!(
            "Invoice {invoice_id} is not a live invoice carrying this order's marker; it cannot be adopted."
        )));
    }
    orders::get(db, p.tenant_id, order_id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    map_to(db, p, &realm, "Order", order_id, invoice_id, &doc).await
}
