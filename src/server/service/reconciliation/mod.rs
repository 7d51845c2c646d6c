//! The QuickBooks reconciliation report (issue 12, Admin): for a range of days, every order of
//! ours placed then compared with QuickBooks' invoices ([`compare`]), read in as few calls as
//! Intuit's metering allows; and the actions on its rows — re-send, adopt, dismiss — each
//! audited.

mod compare;

use std::collections::{HashMap, HashSet};

use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::commerce::{OrderStatus, PaymentStatus};
use crate::domain::reconcile::{ReconAction, ReconActionInput, ReconReport};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::quickbooks::adapter::{invoice_voided, metadata, minor};
use crate::server::erp::quickbooks::client::QboError;
use crate::server::erp::quickbooks::connector::{QuickBooks, PROVIDER};
use crate::server::erp::quickbooks::reconcile::{marker_order, ReadError};
use crate::server::erp::quickbooks::tokens::AccessError;
use crate::server::service::errors::{internal, store};
use crate::server::service::exports;
use crate::server::service::manual_sync::{manual_sync, ManualSyncInput, SyncScope};
use crate::server::store::{audit, connections, mappings, orders, reconciliation, Db};
use crate::server::time;
pub use compare::{compare, OurOrder, Sides, TheirInvoice};

/// Most orders one report compares: a wider range is refused with a word to narrow it.
pub const MAX_ORDERS: i64 = 100_000;

fn qbo(qb: Option<&QuickBooks>) -> Result<&QuickBooks, AppError> {
    qb.ok_or_else(|| AppError::BadRequest("QuickBooks is not configured on this server.".into()))
}

fn read_error(e: ReadError) -> AppError {
    match e {
        ReadError::Access(AccessError::NotConnected(_) | AccessError::ReconnectRequired(_)) => {
            AppError::Conflict(
                "QuickBooks is not connected (or needs reconnecting): connect it, then run the report.".into(),
            )
        }
        other => AppError::Conflict(format!("QuickBooks could not be read: {other}. Try again shortly.")),
    }
}

fn scope<'a>(tenant_id: Uuid, realm: &'a str, entity_type: &'static str) -> mappings::Scope<'a> {
    mappings::Scope {
        tenant_id,
        provider: PROVIDER,
        external_company_id: realm,
        entity_type,
    }
}

/// The invoice as the comparison reads it; amounts in its own currency's decimals.
fn their_invoice(doc: &Value) -> Option<TheirInvoice> {
    // QuickBooks names every transaction's currency.
    let currency = doc["CurrencyRef"]["value"]
        .as_str()
        .unwrap_or("USD")
        .to_string();
    Some(TheirInvoice {
        id: doc["Id"].as_str()?.to_string(),
        doc_number: doc["DocNumber"].as_str().map(str::to_string),
        total: minor(doc.get("TotalAmt"), &currency).unwrap_or_default(),
        balance: minor(doc.get("Balance"), &currency).unwrap_or_default(),
        voided: invoice_voided(doc),
        ours: marker_order(doc),
        currency,
    })
}

/// The report for the days `from`..=`to` (default: the last 31).
pub async fn report(
    db: &Db,
    qb: Option<&QuickBooks>,
    p: &Principal,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ReconReport, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let qb = qbo(qb)?;
    let (from_ts, to_ts) = exports::range(from, to)?;
    let (from_day, to_day) = (
        from_ts.date_naive(),
        (to_ts - TimeDelta::days(1))
            .date_naive()
            .max(from_ts.date_naive()),
    );
    let ours = orders::placed_between(db, p.tenant_id, from_ts, to_ts, MAX_ORDERS + 1)
        .await
        .map_err(store)?;
    if ours.len() as i64 > MAX_ORDERS {
        return Err(AppError::BadRequest(format!(
            "More than {MAX_ORDERS} orders were placed in that range; choose fewer days."
        )));
    }
    let payments_synced = connections::settings(db, p.tenant_id, PROVIDER)
        .await
        .map_err(store)?
        .is_some_and(|s| s.sync_payments);
    let connection = connections::list(db, p.tenant_id)
        .await
        .map_err(store)?
        .into_iter()
        .find(|c| c.provider == PROVIDER);
    let company_name = connection.as_ref().and_then(|c| c.company_name.clone());
    let realm = connection
        .and_then(|c| c.external_company_id)
        .ok_or_else(|| read_error(ReadError::Access(AccessError::NotConnected(String::new()))))?;
    let in_range: HashSet<Uuid> = ours.iter().map(|o| o.id).collect();
    let mapped: HashMap<Uuid, String> = mappings::all(db, scope(p.tenant_id, &realm, "Order"))
        .await
        .map_err(store)?
        .into_iter()
        .filter_map(|m| Some((m.prometheus_id.parse::<Uuid>().ok()?, m.external_id)))
        .filter(|(id, _)| in_range.contains(id))
        .collect();
    let wanted: HashSet<String> = mapped.values().cloned().collect();
    let read = qb
        .invoices_for_reconciliation(p.tenant_id, from_day, to_day, &wanted)
        .await
        .map_err(read_error)?;
    let invoices: Vec<TheirInvoice> = read.docs.iter().filter_map(their_invoice).collect();
    // Invoices of the range may name orders of ours placed outside it.
    let mut known_elsewhere = HashSet::new();
    for id in invoices
        .iter()
        .filter_map(|i| i.ours)
        .filter(|id| !in_range.contains(id))
    {
        if known_elsewhere.len() >= 10_000 {
            break;
        }
        if orders::get(db, p.tenant_id, id)
            .await
            .map_err(store)?
            .is_some()
        {
            known_elsewhere.insert(id);
        }
    }
    let our_orders: Vec<OurOrder> = ours
        .iter()
        .map(|o| OurOrder {
            id: o.id,
            order_number: o.order_number,
            cancelled: o.status == OrderStatus::Cancelled,
            paid: o.payment_status == PaymentStatus::Paid,
            total: o.total,
            due: o.total - o.amount_paid,
            currency: o.currency.clone(),
        })
        .collect();
    let rows = compare(&Sides {
        orders: &our_orders,
        mapped: &mapped,
        invoices: &invoices,
        payments_synced,
        known_elsewhere: &known_elsewhere,
    });
    let dismissed = reconciliation::dismissed(db, p.tenant_id, PROVIDER)
        .await
        .map_err(store)?;
    let total = rows.len();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| !dismissed.contains(&r.key))
        .collect();
    Ok(ReconReport {
        provider: PROVIDER.into(),
        company: match company_name {
            Some(name) => format!("{name} (company {})", read.realm),
            None => format!("company {}", read.realm),
        },
        from: from_day,
        to: to_day,
        orders_checked: our_orders.len() as i64,
        invoices_read: invoices.len() as i64,
        calls: read.calls,
        dismissed: (total - rows.len()) as i64,
        rows,
    })
}

/// The report as CSV rows (a header first).
pub fn csv_rows(r: &ReconReport) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "kind",
        "order_number",
        "order_id",
        "quickbooks_id",
        "ours",
        "quickbooks",
        "detail",
        "actions",
        "key",
    ]
    .map(String::from)
    .to_vec()];
    for d in &r.rows {
        rows.push(vec![
            d.kind.code().into(),
            d.order_number.map(|n| n.to_string()).unwrap_or_default(),
            d.order_id.map(|n| n.to_string()).unwrap_or_default(),
            d.external_id.clone().unwrap_or_default(),
            d.ours.clone().unwrap_or_default(),
            d.theirs.clone().unwrap_or_default(),
            d.detail.clone(),
            d.actions
                .iter()
                .map(|a| a.label())
                .collect::<Vec<_>>()
                .join(" / "),
            d.key.clone(),
        ]);
    }
    rows
}

/// The CSV file of the report.
pub fn csv(r: &ReconReport) -> Result<Vec<u8>, AppError> {
    exports::csv_file(csv_rows(r)).map_err(internal)
}

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
        entity_type: if input.order_id().is_some() { "Order" } else { "Invoice" }.into(),
        entity_id: input
            .order_id()
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
            let order_id = *order_id;
            let forgot = forget_if_gone(db, qb, p, order_id).await?;
            let result = manual_sync(
                db,
                p,
                "quickbooks",
                ManualSyncInput {
                    entity_type: SyncScope::Order,
                    entity_ids: Some(vec![order_id]),
                    since: None,
                },
            )
            .await?;
            audit_action(db, p, &input, json!({ "forgot_mapping": forgot, "queued": result.successful, "run_id": result.run_id }), false).await?;
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
    }
}

/// The invoice `id` of the tenant's company, or None when QuickBooks no longer has it.
async fn read_invoice(
    qb: &QuickBooks,
    tenant_id: Uuid,
    id: &str,
) -> Result<(String, Option<Value>), AppError> {
    let access = qb
        .access(tenant_id)
        .await
        .map_err(|e| read_error(ReadError::Access(e)))?;
    match qb
        .client
        .read(&access.realm, &access.token, "Invoice", id)
        .await
    {
        Ok(doc) if !doc.is_null() => Ok((access.realm, Some(doc))),
        Ok(_) => Ok((access.realm, None)),
        Err(QboError::Fault { fault, .. }) if fault.code() == "610" => Ok((access.realm, None)),
        Err(e) => Err(read_error(ReadError::Qbo(e))),
    }
}

/// Forgets the order's mapping when QuickBooks no longer has the invoice it names.
async fn forget_if_gone(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    order_id: Uuid,
) -> Result<bool, AppError> {
    let access = qb
        .access(p.tenant_id)
        .await
        .map_err(|e| read_error(ReadError::Access(e)))?;
    let s = scope(p.tenant_id, &access.realm, "Order");
    let Some(m) = mappings::by_ours(db, s, &order_id.to_string())
        .await
        .map_err(store)?
    else {
        return Ok(false);
    };
    let (_, doc) = read_invoice(qb, p.tenant_id, &m.external_id).await?;
    if doc.is_some() {
        return Ok(false);
    }
    mappings::forget(db, s, &order_id.to_string())
        .await
        .map_err(store)
}

/// Maps the order to an invoice that carries its marker.
async fn adopt(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    order_id: Uuid,
    invoice_id: &str,
) -> Result<(), AppError> {
    let (realm, doc) = read_invoice(qb, p.tenant_id, invoice_id).await?;
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
    let s = scope(p.tenant_id, &realm, "Order");
    if let Some(other) = mappings::by_theirs(db, s, invoice_id)
        .await
        .map_err(store)?
    {
        if other.prometheus_id != order_id.to_string() {
            return Err(AppError::Conflict(format!(
                "Invoice {invoice_id} is already the mapping of another order."
            )));
        }
    }
    let m = mappings::Mapping {
        prometheus_id: order_id.to_string(),
        external_id: invoice_id.to_string(),
        sync_token: doc["SyncToken"].as_str().map(str::to_string),
        metadata: Some(metadata(&doc).to_string()),
    };
    mappings::upsert(db, s, &m, Utc::now()).await.map_err(store)
}
