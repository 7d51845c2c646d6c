//! NetSuite → erp-bridge, applying what the watermark pull ([`super::watermark`]) put in the
//! inbox:
//!
//! - a **customer payment** is read with its `apply` sublist; each invoice it pays is read for
//!   its `createdFrom`, and when that is one of our sales orders the amount is recorded on our
//!   order — once per (payment, invoice), never beyond the balance due (the order service
//!   decides). We never send payments to NetSuite, so nothing echoes back;
//! - a **sales order** or **customer** change refreshes what the mapping remembers (the order's
//!   status, the time of the change): NetSuite is not the source of truth for our records, and
//!   v1 never overwrites them from the ERP (PRD § 2.1);
//! - a **deletion** of a record we mapped removes the stale mapping and says so; our record
//!   stays.
//!
//! An event that cannot be applied for want of a working connection waits in the inbox.

use async_trait::async_trait;
use chrono::TimeDelta;
use serde_json::{json, Value};
use uuid::Uuid;

use super::client::{Account, NsError};
use super::connector::{NetSuite, OpenError, Stored, PROVIDER};
use super::watermark::{self, Limits, STREAMS};
use crate::domain::connection::Provider;
use crate::domain::money;
use crate::server::erp::inbound::{claim_owner, process_due, retry_in, Inbound};
use crate::server::service::orders::{self as order_service, ErpPayment};
use crate::server::store::inbox::{InboxRow, Outcome};
use crate::server::store::mappings::{self, Scope};
use crate::server::store::{checkpoints, connections, orders, Db, StoreResult};
use crate::server::time;

/// The NetSuite connector's inbound side.
#[derive(Clone)]
pub struct NetSuiteInbound {
    ns: NetSuite,
    db: Db,
    owner: String,
}

impl NetSuiteInbound {
    /// Reads connections and the inbox from `db`.
    pub fn new(ns: NetSuite, db: Db) -> Self {
        NetSuiteInbound {
            ns,
            db,
            owner: claim_owner(),
        }
    }

    /// Pulls every stream of one tenant's account now; how many new inbox events it found.
    pub async fn pull(&self, tenant_id: Uuid) -> Result<usize, String> {
        self.pull_with(tenant_id, Limits::default()).await
    }

    /// The same, reading at most `limits` per stream.
    pub async fn pull_with(&self, tenant_id: Uuid, limits: Limits) -> Result<usize, String> {
        let (acct, _) = self
            .ns
            .connection(&self.db, tenant_id)
            .await
            .map_err(|e| e.to_string())?;
        // Each stream on its own: one that fails (a role without access to customers, say)
        // does not keep the others from being pulled.
        let mut new = 0;
        let mut failures = Vec::new();
        for stream in &STREAMS {
            match watermark::pull(&self.ns, &self.db, tenant_id, &acct, stream, limits).await {
                Ok(pulled) => new += pulled.new,
                Err(why) => failures.push(format!("{}: {why}", stream.name)),
            }
        }
        if new > 0 {
            tracing::info!(%tenant_id, account = %acct.id, new, "NetSuite pull found changes");
        }
        if failures.is_empty() {
            Ok(new)
        } else {
            Err(failures.join("; "))
        }
    }

    async fn process(&self, row: &InboxRow) -> Outcome {
        let (Some(entity), Some(id)) = (row.entity_type.as_deref(), row.entity_id.as_deref())
        else {
            return Outcome::Skipped("the event names no record".into());
        };
        let (acct, stored) = match self.ns.connection(&self.db, row.tenant_id).await {
            Ok(c) => c,
            Err(OpenError::NotConnected(why)) => {
                return retry_in(
                    5,
                    format!("waiting for a working NetSuite connection: {why}"),
                )
            }
            Err(e @ OpenError::Store(_)) => return retry_in(1, e.to_string()),
        };
        if row
            .external_company_id
            .as_deref()
            .is_some_and(|a| a != stored.account_id)
        {
            return Outcome::Skipped(
                "the change belongs to a NetSuite account this tenant is no longer connected to"
                    .into(),
            );
        }
        let call = Call {
            inbound: self,
            tenant_id: row.tenant_id,
            acct,
            stored,
        };
        let found: Value = row
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .map(|p| p["row"].clone())
            .unwrap_or(Value::Null);
        match (entity, row.event_type.as_deref()) {
            (_, Some("Delete")) => call.deleted(entity, id).await,
            ("customerPayment", _) => call.payment(id).await,
            ("salesOrder", _) => call.refresh("Order", "sales order", id, &found).await,
            ("customer", _) => call.refresh("Customer", "customer", id, &found).await,
            (other, _) => Outcome::Skipped(format!(
                "erp-bridge does not follow NetSuite {other} records"
            )),
        }
    }
}

fn from_api(e: NsError) -> Outcome {
    match e {
        NsError::Refused { .. } => Outcome::Failed(e.to_string()),
        NsError::Auth(_) => retry_in(5, e.to_string()),
        _ => retry_in(1, e.to_string()),
    }
}

/// One event's working context.
struct Call<'a> {
    inbound: &'a NetSuiteInbound,
    tenant_id: Uuid,
    acct: Account,
    stored: Stored,
}

impl Call<'_> {
    fn scope(&self, entity_type: &'static str) -> Scope<'_> {
        self.stored.scope(self.tenant_id, entity_type)
    }

    async fn read(&self, kind: &str, key: &str) -> Result<Option<Value>, Outcome> {
        match self.inbound.ns.client.get(&self.acct, kind, key).await {
            Ok(v) => Ok(Some(v)),
            Err(NsError::NotFound) => Ok(None),
            Err(e) => Err(from_api(e)),
        }
    }

    /// A customer payment: the amount applied to each invoice made from one of our sales
    /// orders is recorded on that order.
    async fn payment(&self, id: &str) -> Outcome {
        let payment = match self
            .read("customerPayment", &format!("{id}?expandSubResources=true"))
            .await
        {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Outcome::Skipped(format!("NetSuite customer payment {id} no longer exists"))
            }
            Err(o) => return o,
        };
        let lines = payment["apply"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut recorded = 0;
        let mut notes = Vec::new();
        let mut refused = Vec::new();
        for line in lines.iter().filter(|l| l["apply"].as_bool() == Some(true)) {
            let Some(invoice_id) = line["doc"]["id"].as_str() else {
                continue;
            };
            let Some(major) = line["amount"].as_f64() else {
                continue;
            };
            let invoice = match self
                .read(
                    "invoice",
                    &format!("{invoice_id}?fields=createdFrom,tranId"),
                )
                .await
            {
                Ok(Some(i)) => i,
                Ok(None) => {
                    notes.push(format!("invoice {invoice_id} no longer exists"));
                    continue;
                }
                Err(o) => return o,
            };
            let Some(order_id) = invoice["createdFrom"]["id"].as_str() else {
                notes.push(format!(
                    "invoice {invoice_id} was not made from a sales order"
                ));
                continue;
            };
            let mapping =
                match mappings::by_theirs(&self.inbound.db, self.scope("Order"), order_id).await {
                    Ok(m) => m,
                    Err(e) => return retry_in(1, format!("reading mappings failed: {e}")),
                };
            let Some(ours) = mapping.and_then(|m| m.prometheus_id.parse::<Uuid>().ok()) else {
                notes.push(format!(
                    "invoice {invoice_id} was made from sales order {order_id}, which erp-bridge did not create"
                ));
                continue;
            };
            // Our sales orders go out in the order's currency (the books' own), so the amount is
            // in that currency's decimals.
            let order = match orders::get(&self.inbound.db, self.tenant_id, ours).await {
                Ok(Some(o)) => o,
                Ok(None) => {
                    notes.push(format!(
                        "the order of sales order {order_id} no longer exists"
                    ));
                    continue;
                }
                Err(e) => return retry_in(1, format!("reading the order failed: {e}")),
            };
            let Some(amount) = money::from_major_f64(major, &order.currency) else {
                refused.push(format!(
                    "NetSuite payment {id} carries an unusable amount {major}"
                ));
                continue;
            };
            let external_id = format!("{id}:{invoice_id}");
            let reference = format!(
                "NetSuite payment {} on invoice {}",
                payment["tranId"].as_str().unwrap_or(id),
                invoice["tranId"].as_str().unwrap_or(invoice_id)
            );
            match order_service::record_erp_payment(
                &self.inbound.db,
                self.tenant_id,
                ours,
                amount,
                Provider::NetSuite,
                &external_id,
                &reference,
            )
            .await
            {
                Ok(ErpPayment::Recorded) => recorded += 1,
                Ok(ErpPayment::AlreadyRecorded) => {
                    notes.push(format!("payment {external_id} was already recorded"))
                }
                Ok(ErpPayment::OrderAlreadyPaid) => notes.push(format!(
                    "the order of sales order {order_id} was already paid in erp-bridge; NetSuite payment {id} reconciles its side"
                )),
                Ok(ErpPayment::Rejected(why)) => refused.push(why),
                Err(e) => return retry_in(1, format!("recording the payment failed: {e}")),
            }
        }
        if !refused.is_empty() {
            // What could be recorded was; the rest needs a person.
            Outcome::Failed(refused.join("; "))
        } else if recorded > 0 {
            Outcome::Completed
        } else if notes.is_empty() {
            Outcome::Skipped(format!(
                "NetSuite customer payment {id} is not applied to any invoice"
            ))
        } else {
            Outcome::Skipped(notes.join("; "))
        }
    }

    /// A changed record we may have mapped: the mapping remembers what NetSuite reported.
    async fn refresh(
        &self,
        entity_type: &'static str,
        what: &str,
        id: &str,
        found: &Value,
    ) -> Outcome {
        let mut meta = json!({ "lastModified": found["modified"] });
        if let Some(status) = found["status"].as_str() {
            meta["status"] = json!(status);
            meta["statusName"] = json!(sales_order_status(status));
        }
        match mappings::refresh_theirs(
            &self.inbound.db,
            self.scope(entity_type),
            id,
            None,
            &meta.to_string(),
            time::now(),
        )
        .await
        {
            Ok(true) => Outcome::Completed,
            Ok(false) => Outcome::Skipped(format!(
                "NetSuite {what} {id} is not mapped to an erp-bridge record"
            )),
            Err(e) => retry_in(1, format!("updating the mapping failed: {e}")),
        }
    }

    /// A deleted record: a mapping to it is stale and goes; our record stays.
    async fn deleted(&self, entity: &str, id: &str) -> Outcome {
        let (entity_type, what) = match entity {
            "salesOrder" => ("Order", "sales order"),
            _ => ("Customer", "customer"),
        };
        let db = &self.inbound.db;
        let mapping = match mappings::by_theirs(db, self.scope(entity_type), id).await {
            Ok(m) => m,
            Err(e) => return retry_in(1, format!("reading mappings failed: {e}")),
        };
        let Some(m) = mapping else {
            return Outcome::Skipped(format!(
                "NetSuite {what} {id} was deleted; it was not mapped to an erp-bridge record"
            ));
        };
        match mappings::forget(db, self.scope(entity_type), &m.prometheus_id).await {
            Ok(_) => {
                tracing::warn!(tenant_id = %self.tenant_id, netsuite_id = %id, ours = %m.prometheus_id, "a mapped NetSuite {what} was deleted in NetSuite; its mapping was removed");
                Outcome::Completed
            }
            Err(e) => retry_in(1, format!("removing the mapping failed: {e}")),
        }
    }
}

/// A sales order's status code as NetSuite names it.
pub fn sales_order_status(code: &str) -> &'static str {
    match code {
        "A" => "Pending Approval",
        "B" => "Pending Fulfillment",
        "C" => "Cancelled",
        "D" => "Partially Fulfilled",
        "E" => "Pending Billing/Partially Fulfilled",
        "F" => "Pending Billing",
        "G" => "Billed",
        "H" => "Closed",
        _ => "Unknown",
    }
}

#[async_trait]
impl Inbound for NetSuiteInbound {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn process_inbox_once(&self, limit: i64) -> StoreResult<usize> {
        process_due(&self.db, PROVIDER, &self.owner, limit, |row| async move {
            self.process(&row).await
        })
        .await
    }

    /// Pulls every connection whose pull frequency has elapsed since its last successful pull.
    async fn pull_due(&self) -> StoreResult<()> {
        let now = time::now();
        for (tenant_id, account, minutes) in connections::connected(&self.db, PROVIDER).await? {
            // Due when any stream's last successful pull is older than the frequency.
            let mut due = false;
            for stream in &STREAMS {
                let last = checkpoints::get(&self.db, tenant_id, PROVIDER, stream.name).await?;
                due |= last
                    .and_then(|c| c.last_success_at)
                    .is_none_or(|t| t + TimeDelta::minutes(minutes.max(1)) <= now);
            }
            if due {
                if let Err(cause) = self.pull(tenant_id).await {
                    tracing::warn!(%tenant_id, %account, %cause, "NetSuite pull failed");
                }
            }
        }
        Ok(())
    }
}
