//! QuickBooks → erp-bridge: processing of the inbox (webhook notifications and CDC findings)
//! and the CDC pull that backs webhooks up.
//!
//! Payment ⇒ fetch it, follow each line's LinkedTxn to an invoice we created, and record the
//! amount on that order (once per payment and invoice). Invoice and Customer changes only
//! refresh what the mapping remembers (SyncToken, last update): QuickBooks is not the source of
//! truth for our customers, and its balances are never imported. An event that cannot be
//! processed for want of a working connection waits in the inbox; it is never dropped.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::adapter::{metadata, minor};
use super::client::QboError;
use super::connector::{QuickBooks, PROVIDER};
use super::fault::FaultClass;
use super::tokens::AccessError;
use crate::domain::connection::Provider;
use crate::server::erp::inbound::{process_due, retry_in, Inbound};
use crate::server::service::orders::{self as order_service, ErpPayment};
use crate::server::store::inbox::{self, InboxRow, Outcome};
use crate::server::store::mappings::{self, Scope};
use crate::server::store::{checkpoints, connections, StoreResult};
use crate::server::time;

/// The CDC checkpoint's stream name.
pub const CDC_STREAM: &str = "CDC";
/// Entities the CDC pull asks for.
pub const CDC_ENTITIES: &str = "Payment,Invoice,Customer";

fn from_access(err: AccessError) -> Outcome {
    match err {
        AccessError::NotConnected(_) | AccessError::ReconnectRequired(_) => retry_in(
            5,
            format!("waiting for a working QuickBooks connection: {err}"),
        ),
        AccessError::Unavailable(m) => retry_in(1, m),
    }
}

fn from_api(err: QboError) -> Outcome {
    match &err {
        QboError::Fault { fault, .. } if fault.class() == FaultClass::Permanent => {
            Outcome::Failed(err.to_string())
        }
        QboError::Throttled { retry_after } => Outcome::Retry(
            time::now() + TimeDelta::from_std(*retry_after).unwrap_or(TimeDelta::minutes(1)),
            err.to_string(),
        ),
        _ => retry_in(1, err.to_string()),
    }
}

impl QuickBooks {
    /// Processes one batch of due inbox events; returns how many were claimed.
    pub async fn process_inbox_once(&self, limit: i64) -> StoreResult<usize> {
        process_due(&self.db, PROVIDER, &self.owner, limit, |row| async move {
            self.process(&row).await
        })
        .await
    }

    async fn process(&self, row: &InboxRow) -> Outcome {
        let (Some(entity), Some(entity_id)) =
            (row.entity_type.as_deref(), row.entity_id.as_deref())
        else {
            return Outcome::Skipped("the event names no entity".into());
        };
        let operation = row.event_type.as_deref().unwrap_or("Update");
        if !matches!(entity, "Payment" | "Invoice" | "Customer") {
            return Outcome::Skipped(format!(
                "erp-bridge does not track QuickBooks {entity} records"
            ));
        }
        if matches!(operation, "Delete" | "Void" | "Merge") {
            return Outcome::Skipped(format!(
                "{entity} {entity_id} was {}d in QuickBooks; erp-bridge keeps its own record unchanged",
                operation.to_lowercase()
            ));
        }
        let access = match self.access(row.tenant_id).await {
            Ok(a) => a,
            Err(e) => return from_access(e),
        };
        if row
            .external_company_id
            .as_deref()
            .is_some_and(|r| r != access.realm)
        {
            return Outcome::Skipped(
                "the event belongs to a company this tenant is no longer connected to".into(),
            );
        }
        let doc = match self
            .client
            .read(&access.realm, &access.token, entity, entity_id)
            .await
        {
            Ok(d) => d,
            Err(QboError::Fault { fault, .. }) if fault.code() == "610" => {
                return Outcome::Skipped(format!(
                    "{entity} {entity_id} no longer exists in QuickBooks"
                ));
            }
            Err(e) => return from_api(e),
        };
        match entity {
            "Payment" => self.apply_payment(row.tenant_id, &access.realm, &doc).await,
            _ => {
                self.refresh_mapping(row.tenant_id, &access.realm, entity, &doc)
                    .await
            }
        }
    }

    async fn apply_payment(&self, tenant_id: Uuid, realm: &str, payment: &Value) -> Outcome {
        let payment_id = payment["Id"].as_str().unwrap_or_default();
        // Our own payment coming back (its webhook can beat the mapping we write after the
        // create's answer, so the marker decides first): it is already recorded here.
        let ours = payment["PrivateNote"]
            .as_str()
            .is_some_and(|n| n.starts_with(super::adapter::PAYMENT_MARKER_PREFIX));
        let payments = Scope {
            tenant_id,
            provider: PROVIDER,
            external_company_id: realm,
            entity_type: "Payment",
        };
        let mapped = match mappings::by_theirs(&self.db, payments, payment_id).await {
            Ok(m) => m.is_some(),
            Err(e) => return retry_in(1, format!("reading mappings failed: {e}")),
        };
        if ours || mapped {
            return Outcome::Skipped(format!(
                "QuickBooks payment {payment_id} was posted by erp-bridge; it is already recorded here"
            ));
        }
        let orders = Scope {
            tenant_id,
            provider: PROVIDER,
            external_company_id: realm,
            entity_type: "Order",
        };
        let mut recorded = 0;
        let mut notes = Vec::new();
        // QuickBooks names every transaction's currency; amounts are in its own decimals.
        let currency = payment["CurrencyRef"]["value"].as_str().unwrap_or("USD");
        for line in payment["Line"].as_array().cloned().unwrap_or_default() {
            let Some(amount) = minor(line.get("Amount"), currency) else {
                continue;
            };
            for link in line["LinkedTxn"].as_array().cloned().unwrap_or_default() {
                if link["TxnType"].as_str() != Some("Invoice") {
                    continue;
                }
                let invoice_id = link["TxnId"].as_str().unwrap_or_default();
                let mapping = match mappings::by_theirs(&self.db, orders, invoice_id).await {
                    Ok(m) => m,
                    Err(e) => return retry_in(1, format!("reading mappings failed: {e}")),
                };
                let Some(order_id) = mapping.and_then(|m| m.prometheus_id.parse::<Uuid>().ok())
                else {
                    notes.push(format!(
                        "invoice {invoice_id} was not created by erp-bridge"
                    ));
                    continue;
                };
                let external_id = format!("{payment_id}:{invoice_id}");
                let reference = format!("QuickBooks payment {payment_id}");
                match order_service::record_erp_payment(
                    &self.db,
                    tenant_id,
                    order_id,
                    amount,
                    Provider::QuickBooks,
                    &external_id,
                    &reference,
                )
                .await
                {
                    Ok(ErpPayment::Recorded) => recorded += 1,
                    Ok(ErpPayment::OrderAlreadyPaid) => notes.push(format!(
                        "order of invoice {invoice_id} was already paid in erp-bridge; QuickBooks payment {payment_id} reconciles its side"
                    )),
                    Ok(ErpPayment::AlreadyRecorded) => {
                        notes.push(format!("payment {external_id} was already recorded"))
                    }
                    Ok(ErpPayment::Rejected(why)) => return Outcome::Failed(why),
                    Err(e) => return retry_in(1, format!("recording the payment failed: {e}")),
                }
            }
        }
        if recorded > 0 {
            Outcome::Completed
        } else if notes.is_empty() {
            Outcome::Skipped(format!(
                "QuickBooks payment {payment_id} is not applied to any invoice"
            ))
        } else {
            Outcome::Skipped(notes.join("; "))
        }
    }

    async fn refresh_mapping(
        &self,
        tenant_id: Uuid,
        realm: &str,
        entity: &str,
        doc: &Value,
    ) -> Outcome {
        let entity_type = if entity == "Invoice" {
            "Order"
        } else {
            "Customer"
        };
        let scope = Scope {
            tenant_id,
            provider: PROVIDER,
            external_company_id: realm,
            entity_type,
        };
        let id = doc["Id"].as_str().unwrap_or_default();
        let meta = metadata(doc).to_string();
        match mappings::refresh_theirs(
            &self.db,
            scope,
            id,
            doc["SyncToken"].as_str(),
            &meta,
            time::now(),
        )
        .await
        {
            Ok(true) => Outcome::Completed,
            Ok(false) => Outcome::Skipped(format!(
                "QuickBooks {entity} {id} is not mapped to an erp-bridge record"
            )),
            Err(e) => retry_in(1, format!("updating the mapping failed: {e}")),
        }
    }

    /// One CDC pull for a tenant: every change since the checkpoint goes to the inbox (deduped
    /// by entity, id and LastUpdatedTime), then the checkpoint advances to the newest change
    /// seen. The first pull starts an hour back. Returns how many new events were recorded.
    pub async fn pull_cdc(&self, tenant_id: Uuid) -> Result<usize, String> {
        let access = self.access(tenant_id).await.map_err(|e| e.to_string())?;
        let now = time::now();
        let checkpoint = checkpoints::get(&self.db, tenant_id, PROVIDER, CDC_STREAM)
            .await
            .map_err(|e| e.to_string())?;
        let since = checkpoint
            .and_then(|c| c.cursor)
            .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now - TimeDelta::hours(1))
            // CDC looks back at most 30 days.
            .max(now - TimeDelta::days(30) + TimeDelta::minutes(5));
        let result = self
            .client
            .cdc(&access.realm, &access.token, CDC_ENTITIES, since)
            .await;
        let responses = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = checkpoints::failed(
                    &self.db,
                    tenant_id,
                    PROVIDER,
                    CDC_STREAM,
                    &e.to_string(),
                    now,
                )
                .await;
                return Err(e.to_string());
            }
        };
        let mut rows = Vec::new();
        let mut newest = since;
        for response in responses {
            let Some(obj) = response.as_object() else {
                continue;
            };
            for (entity, list) in obj {
                let Some(list) = list.as_array() else {
                    continue;
                };
                for doc in list {
                    let updated = doc
                        .pointer("/MetaData/LastUpdatedTime")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if let Ok(t) = DateTime::parse_from_rfc3339(updated) {
                        newest = newest.max(t.with_timezone(&Utc));
                    }
                    let id = doc["Id"].as_str().unwrap_or_default();
                    let deleted = doc["status"].as_str() == Some("Deleted");
                    rows.push(InboxRow {
                        id: Uuid::now_v7(),
                        tenant_id,
                        provider: PROVIDER.into(),
                        external_event_id: format!("cdc:{entity}:{id}:{updated}"),
                        external_company_id: Some(access.realm.clone()),
                        event_type: Some(if deleted { "Delete" } else { "Update" }.into()),
                        entity_type: Some(entity.clone()),
                        entity_id: Some(id.to_string()),
                        payload: Some(
                            json!({ "source": "cdc", "lastUpdated": updated }).to_string(),
                        ),
                        received_at: now,
                        status: "Pending".into(),
                    });
                }
            }
        }
        let new = inbox::insert_many(&self.db, &rows)
            .await
            .map_err(|e| e.to_string())?;
        // Changes stamped in the same instant as the newest may still be arriving; the
        // overlap is harmless (inbox dedupe), a gap would not be.
        let cursor = (newest - TimeDelta::seconds(1))
            .max(since)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        checkpoints::advance(&self.db, tenant_id, PROVIDER, CDC_STREAM, &cursor, now)
            .await
            .map_err(|e| e.to_string())?;
        if new > 0 {
            tracing::info!(%tenant_id, realm = %access.realm, new, "QuickBooks CDC found changes");
        }
        Ok(new)
    }

    /// Pulls CDC for every connection whose pull frequency has elapsed since its last pull.
    pub async fn pull_due(&self) -> StoreResult<()> {
        let now = time::now();
        for (tenant_id, realm, minutes) in connections::connected(&self.db, PROVIDER).await? {
            let last = checkpoints::get(&self.db, tenant_id, PROVIDER, CDC_STREAM).await?;
            let due = last
                .as_ref()
                .and_then(|c| c.last_success_at)
                .is_none_or(|t| t + TimeDelta::minutes(minutes.max(1)) <= now);
            if !due {
                continue;
            }
            if let Err(cause) = self.pull_cdc(tenant_id).await {
                tracing::warn!(%tenant_id, %realm, %cause, "QuickBooks CDC pull failed");
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Inbound for QuickBooks {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn process_inbox_once(&self, limit: i64) -> StoreResult<usize> {
        QuickBooks::process_inbox_once(self, limit).await
    }

    async fn pull_due(&self) -> StoreResult<()> {
        QuickBooks::pull_due(self).await
    }
}
