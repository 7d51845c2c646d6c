//! The QuickBooks reconciliation report (issue 12, Admin): for a range of days, every order of
//! ours placed then compared with QuickBooks' invoices ([`compare`]) and every customer created,
//! changed or ordering then compared with QuickBooks' customers ([`customers`]), read in as few
//! calls as Intuit's metering allows; and the actions on its rows ([`actions`]).

mod actions;
mod compare;
mod customers;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::commerce::{OrderStatus, PaymentStatus};
use crate::domain::reconcile::{DriftRow, ReconReport};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::quickbooks::adapter::{invoice_voided, minor};
use crate::server::erp::quickbooks::connector::{QuickBooks, PROVIDER};
use crate::server::erp::quickbooks::reconcile::{marker_order, ReadError};
use crate::server::erp::quickbooks::tokens::AccessError;
use crate::server::service::errors::{internal, store};
use crate::server::service::exports;
use crate::server::store::{
    connections, customers as customer_store, mappings, orders, reconciliation, Db,
};
pub use actions::act;
pub use compare::{compare, OurOrder, Sides, TheirInvoice};
pub use customers::{compare_customers, CustomerSides, OurCustomer, TheirCustomer};

/// Most orders one report compares: a wider range is refused with a word to narrow it.
pub const MAX_ORDERS: i64 = 100_000;

pub(super) fn qbo(qb: Option<&QuickBooks>) -> Result<&QuickBooks, AppError> {
    qb.ok_or_else(|| AppError::BadRequest("QuickBooks is not configured on this server.".into()))
}

pub(super) fn read_error(e: ReadError) -> AppError {
    match e {
        ReadError::Access(AccessError::NotConnected(_) | AccessError::ReconnectRequired(_)) => {
            AppError::Conflict(
                "QuickBooks is not connected (or needs reconnecting): connect it, then run the report.".into(),
            )
        }
        other => AppError::Conflict(format!("QuickBooks could not be read: {other}. Try again shortly.")),
    }
}

pub(super) fn scope<'a>(
    tenant_id: Uuid,
    realm: &'a str,
    entity_type: &'static str,
) -> mappings::Scope<'a> {
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
    let settings = connections::settings(db, p.tenant_id, PROVIDER)
        .await
        .map_err(store)?;
    let payments_synced = settings.as_ref().is_some_and(|s| s.sync_payments);
    let customers_synced = settings.as_ref().is_some_and(|s| s.sync_customers);
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
    let mut rows = compare(&Sides {
        orders: &our_orders,
        mapped: &mapped,
        invoices: &invoices,
        payments_synced,
        known_elsewhere: &known_elsewhere,
    });
    let customers = customer_report(db, qb, p, &realm, (from_ts, to_ts), customers_synced).await?;
    rows.extend(customers.rows);
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
        customers_checked: customers.checked,
        invoices_read: invoices.len() as i64,
        calls: read.calls + customers.calls,
        dismissed: (total - rows.len()) as i64,
        rows,
    })
}

/// The customers' rows, how many customers were compared, and the calls it took.
struct CustomerPart {
    rows: Vec<DriftRow>,
    checked: i64,
    calls: i64,
}

fn their_customer(doc: &Value) -> Option<TheirCustomer> {
    Some(TheirCustomer {
        id: doc["Id"].as_str()?.to_string(),
        display_name: doc["DisplayName"].as_str().unwrap_or_default().to_string(),
        company_name: doc["CompanyName"].as_str().map(str::to_string),
        email: doc["PrimaryEmailAddr"]["Address"]
            .as_str()
            .map(str::to_string),
        active: doc["Active"].as_bool() != Some(false),
    })
}

/// The customers created or changed in the range, or ordering in it, compared with QuickBooks.
async fn customer_report(
    db: &Db,
    qb: &QuickBooks,
    p: &Principal,
    realm: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    customers_synced: bool,
) -> Result<CustomerPart, AppError> {
    let ours: Vec<OurCustomer> =
        customer_store::touched_between(db, p.tenant_id, from, to, MAX_ORDERS + 1)
            .await
            .map_err(store)?
            .into_iter()
            .map(|c| OurCustomer {
                id: c.id,
                number: c.customer_number,
                name: c.name,
                email: c.email,
            })
            .collect();
    if ours.len() as i64 > MAX_ORDERS {
        return Err(AppError::BadRequest(format!(
            "More than {MAX_ORDERS} customers were active in that range; choose fewer days."
        )));
    }
    let all = mappings::all(db, scope(p.tenant_id, realm, "Customer"))
        .await
        .map_err(store)?;
    let taken: HashMap<String, Uuid> = all
        .iter()
        .filter_map(|m| Some((m.external_id.clone(), m.prometheus_id.parse().ok()?)))
        .collect();
    let in_scope: HashSet<Uuid> = ours.iter().map(|c| c.id).collect();
    let mapped: HashMap<Uuid, String> = taken
        .iter()
        .filter(|(_, ours)| in_scope.contains(ours))
        .map(|(theirs, ours)| (*ours, theirs.clone()))
        .collect();
    let mut ids: Vec<String> = mapped.values().cloned().collect();
    ids.sort();
    let names: Vec<String> = ours
        .iter()
        .filter(|c| !mapped.contains_key(&c.id))
        .flat_map(|c| c.display_names())
        .collect();
    let read = qb
        .customers_for_reconciliation(p.tenant_id, &ids, &names)
        .await
        .map_err(read_error)?;
    let mut seen = HashSet::new();
    let theirs: Vec<TheirCustomer> = read
        .docs
        .iter()
        .filter_map(their_customer)
        .filter(|t| seen.insert(t.id.clone()))
        .collect();
    let rows = compare_customers(&CustomerSides {
        customers: &ours,
        mapped: &mapped,
        theirs: &theirs,
        taken: &taken,
        customers_synced,
    });
    Ok(CustomerPart {
        rows,
        checked: ours.len() as i64,
        calls: read.calls,
    })
}

/// The report as CSV rows (a header first).
pub fn csv_rows(r: &ReconReport) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "kind",
        "record",
        "order_number",
        "order_id",
        "customer_number",
        "customer_id",
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
            format!("{:?}", d.entity),
            d.order_number.map(|n| n.to_string()).unwrap_or_default(),
            d.order_id.map(|n| n.to_string()).unwrap_or_default(),
            d.customer_number.map(|n| n.to_string()).unwrap_or_default(),
            d.customer_id.map(|n| n.to_string()).unwrap_or_default(),
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
