//! Manual and bulk sync (PRD `POST /api/integrations/sync/{provider}`): an Admin asks for
//! customers or orders to be sent to one ERP now — all of them or the ones named. Each becomes
//! an outbox event for that provider only, keyed by the record's version, so asking twice while
//! that event still waits queues it once; asked again after it was delivered or failed, the
//! record is re-sent under a new key (DESIGN § 14). Orders sent this way are invoiced even before
//! they are paid (an invoice for net terms); QuickBooks payments against it then come back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::commerce::OrderStatus;
use crate::domain::connection::Provider;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::outbox::{events, DEFAULT_MAX_RETRIES};
use crate::server::service::errors::store;
use crate::server::service::orders::order_payload;
use crate::server::store::outbox::{self, EventRows, Targeted};
use crate::server::store::{connections, customers, orders, sync_runs, Db, Tx};
use crate::server::time;

/// Most records one request may queue.
pub const MAX_RECORDS: i64 = 10_000;

/// A record named under `All`: a customer's id or an order's.
const ANY: &str = "Any";

/// Which records a manual sync sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
pub enum SyncScope {
    /// Customers.
    Customer,
    /// Orders (placed or fulfilled).
    Order,
    /// Customers and orders.
    All,
}

/// What to send.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ManualSyncInput {
    /// What kind of records.
    pub entity_type: SyncScope,
    /// Only these records (default: every record of the kind; orders: every placed or
    /// fulfilled one). With `All`, each id may be a customer's or an order's.
    #[serde(default)]
    #[schema(max_items = 10000)]
    pub entity_ids: Option<Vec<Uuid>>,
    /// Only records changed at or after this time (UTC), when no ids are named; empty or
    /// absent: all.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub since: Option<DateTime<Utc>>,
}

/// An absent, null or empty time is "no cut-over".
fn empty_as_none<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(serde::de::Error::custom),
    }
}

/// What was queued.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SyncResult {
    /// Records considered.
    pub total_processed: i64,
    /// Events queued.
    pub successful: i64,
    /// Records that do not exist (or may not be sent).
    pub failed: i64,
    /// Records already queued for their current version.
    pub skipped: i64,
    /// One line per failure.
    pub errors: Vec<String>,
    /// The sync run that follows the deliveries (`GET /api/integrations/sync-runs/{id}`).
    #[serde(default)]
    pub run_id: Option<Uuid>,
}

/// Queues the requested records for `provider`.
pub async fn manual_sync(
    db: &Db,
    p: &Principal,
    provider: &str,
    input: ManualSyncInput,
) -> Result<SyncResult, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    let (do_customers, do_orders) = match input.entity_type {
        SyncScope::Customer => (true, false),
        SyncScope::Order => (false, true),
        SyncScope::All => (true, true),
    };
    if let Some(ids) = &input.entity_ids {
        if ids.len() as i64 > MAX_RECORDS {
            return Err(AppError::BadRequest(format!(
                "At most {MAX_RECORDS} records per request."
            )));
        }
    }
    let connected = connections::worker_view(db, p.tenant_id, provider.as_str())
        .await
        .map_err(store)?
        .is_some_and(|c| c.status != "NotConnected");
    if !connected {
        return Err(AppError::Conflict(format!(
            "{} is not connected.",
            provider.label()
        )));
    }
    let mut work: Vec<(&str, Uuid)> = Vec::new();
    let named_any = input.entity_type == SyncScope::All && input.entity_ids.is_some();
    if named_any {
        let ids = input.entity_ids.iter().flatten();
        work.extend(ids.map(|id| (ANY, *id)));
    }
    if do_customers && !named_any {
        let ids = match &input.entity_ids {
            Some(ids) => ids.clone(),
            None => customers::all_ids(db, p.tenant_id, input.since, MAX_RECORDS)
                .await
                .map_err(store)?,
        };
        work.extend(ids.into_iter().map(|id| ("Customer", id)));
    }
    if do_orders && !named_any {
        let ids = match &input.entity_ids {
            Some(ids) => ids.clone(),
            None => orders::billable_ids(db, p.tenant_id, input.since, MAX_RECORDS)
                .await
                .map_err(store)?,
        };
        work.extend(ids.into_iter().map(|id| ("Order", id)));
    }
    let run_id = Uuid::now_v7();
    let scope = match input.entity_type {
        SyncScope::Customer => "Customer",
        SyncScope::Order => "Order",
        SyncScope::All => "All",
    };
    let mut tx = db.begin().await.map_err(store)?;
    let run = sync_runs::SyncRunRow {
        id: run_id,
        tenant_id: p.tenant_id,
        provider: provider.as_str().to_string(),
        scope: scope.to_string(),
        since: input.since,
        requested_by: p.actor.id().to_string(),
        considered: work.len() as i64,
        not_queued: 0,
        errors: "[]".into(),
        created_at: time::now(),
    };
    sync_runs::create(&mut tx, &run).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    let mut result = SyncResult {
        run_id: Some(run_id),
        ..SyncResult::default()
    };
    for (entity_type, id) in work {
        result.total_processed += 1;
        let mut tx = db.begin().await.map_err(store)?;
        let (entity_type, event) = match entity_type {
            "Customer" => (entity_type, customer_event(&mut tx, p, id).await?),
            "Order" => (entity_type, order_event(&mut tx, p, id).await?),
            _ => match customer_event(&mut tx, p, id).await? {
                Ok(found) => ("Customer", Ok(found)),
                Err(_) => match order_event(&mut tx, p, id).await? {
                    Ok(found) => ("Order", Ok(found)),
                    Err(why) if why.ends_with("does not exist") => {
                        ("Order", Err(format!("no customer or order {id} exists")))
                    }
                    Err(why) => ("Order", Err(why)),
                },
            },
        };
        let (event_type, version, payload) = match event {
            Ok(e) => e,
            Err(why) => {
                result.failed += 1;
                result.errors.push(why);
                continue;
            }
        };
        let entity_id = id.to_string();
        let rows = EventRows {
            tenant_id: p.tenant_id,
            event_type,
            entity_type,
            entity_id: &entity_id,
            version,
            payload: &payload,
            correlation_id: Some(id),
            origin: None,
            max_retries: DEFAULT_MAX_RETRIES,
            now: time::now(),
        };
        let targeted = outbox::insert_targeted(&mut tx, &rows, provider.as_str())
            .await
            .map_err(store)?;
        let row = match targeted {
            Targeted::Queued(row) => {
                result.successful += 1;
                row
            }
            Targeted::AlreadyWaiting(row) => {
                result.skipped += 1;
                row
            }
        };
        sync_runs::add_item(&mut tx, run_id, row)
            .await
            .map_err(store)?;
        tx.commit().await.map_err(store)?;
    }
    let errors = serde_json::to_string(&result.errors).unwrap_or_else(|_| "[]".into());
    sync_runs::finish_queueing(db, run_id, result.total_processed, result.failed, &errors)
        .await
        .map_err(store)?;
    Ok(result)
}

/// (event, version, payload) of a customer to send, or why it cannot be.
type Prepared = Result<(&'static str, i64, String), String>;

async fn customer_event(tx: &mut Tx, p: &Principal, id: Uuid) -> Result<Prepared, AppError> {
    let Some(c) = customers::get_in(tx, p.tenant_id, id)
        .await
        .map_err(store)?
    else {
        return Ok(Err(format!("customer {id} does not exist")));
    };
    Ok(Ok((
        events::CUSTOMER_SYNC_REQUESTED,
        c.version,
        json!({ "customer": c }).to_string(),
    )))
}

async fn order_event(tx: &mut Tx, p: &Principal, id: Uuid) -> Result<Prepared, AppError> {
    let Some(order) = orders::get_in(tx, p.tenant_id, id).await.map_err(store)? else {
        return Ok(Err(format!("order {id} does not exist")));
    };
    if !matches!(order.status, OrderStatus::Placed | OrderStatus::Fulfilled) {
        return Ok(Err(format!(
            "order {} is {}; only placed or fulfilled orders are sent",
            order.order_number,
            order.status.as_str()
        )));
    }
    let payload = order_payload(tx, p, &order).await?.to_string();
    Ok(Ok((events::ORDER_SYNC_REQUESTED, order.version, payload)))
}
