//! A connection's settings (US-ERP-010): read by IntegrationsView, changed by Admins only, every
//! change audited with what it was before. A change is partial: fields left out keep their value.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::connection::{
    ConnectionDetail, ConnectionSettings, Provider, MAX_DIAGNOSTIC_MINUTES, PULL_FREQUENCY_MINUTES,
};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::{audit, connections, Db};
use crate::server::time;

/// A change to a connection's settings; every field optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingsInput {
    /// Queue changes automatically.
    #[serde(default)]
    pub auto_sync_enabled: Option<bool>,
    /// Send customers.
    #[serde(default)]
    pub sync_customers: Option<bool>,
    /// Send invoices / sales orders.
    #[serde(default)]
    pub sync_invoices: Option<bool>,
    /// Send payments.
    #[serde(default)]
    pub sync_payments: Option<bool>,
    /// Minutes between pulls of changes from the ERP.
    #[serde(default)]
    #[schema(minimum = 5, maximum = 1440)]
    pub pull_frequency_minutes: Option<i64>,
    /// Keep scrubbed request/response payloads of every attempt for this many minutes from now
    /// (0 turns diagnostic mode off).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440)]
    pub diagnostic_minutes: Option<i64>,
    /// QuickBooks: the id of the account payments are deposited to; empty: the company's
    /// Undeposited Funds; absent: unchanged.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{0,20}$")]
    pub deposit_account_id: Option<String>,
}

fn parse_provider(provider: &str) -> Result<Provider, AppError> {
    provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))
}

/// One connection's card and settings (IntegrationsView).
pub async fn get(db: &Db, p: &Principal, provider: &str) -> Result<ConnectionDetail, AppError> {
    p.require(Policy::IntegrationsView)?;
    let provider = parse_provider(provider)?;
    let connection = super::connections::list(db, p)
        .await?
        .into_iter()
        .find(|c| c.provider == provider)
        .ok_or(AppError::NotFound)?;
    let settings = connections::settings(db, p.tenant_id, provider.as_str())
        .await
        .map_err(store)?;
    Ok(ConnectionDetail {
        connection,
        settings,
    })
}

/// Applies `input` over the current settings (IntegrationsManage); 404 when the ERP was never
/// connected. Returns the settings now in force.
pub async fn update(
    db: &Db,
    p: &Principal,
    provider: &str,
    input: SettingsInput,
) -> Result<ConnectionSettings, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider = parse_provider(provider)?;
    if let Some(minutes) = input.pull_frequency_minutes {
        if !PULL_FREQUENCY_MINUTES.contains(&minutes) {
            return Err(AppError::BadRequest(format!(
                "Pull frequency: {} to {} minutes.",
                PULL_FREQUENCY_MINUTES.start(),
                PULL_FREQUENCY_MINUTES.end()
            )));
        }
    }
    if let Some(minutes) = input.diagnostic_minutes {
        if !(0..=MAX_DIAGNOSTIC_MINUTES).contains(&minutes) {
            return Err(AppError::BadRequest(format!(
                "Diagnostic mode: 0 to {MAX_DIAGNOSTIC_MINUTES} minutes."
            )));
        }
    }
    if let Some(id) = input.deposit_account_id.as_deref().map(str::trim) {
        if id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::BadRequest(
                "Deposit account: a QuickBooks account id is digits (its number in the Chart of Accounts' URL); leave it empty for Undeposited Funds.".into(),
            ));
        }
        if !id.is_empty() && provider != Provider::QuickBooks {
            return Err(AppError::Conflict(
                "Deposit account: only QuickBooks connections have one.".into(),
            ));
        }
    }
    let before = connections::settings(db, p.tenant_id, provider.as_str())
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let now = time::now();
    let after = ConnectionSettings {
        auto_sync_enabled: input.auto_sync_enabled.unwrap_or(before.auto_sync_enabled),
        sync_customers: input.sync_customers.unwrap_or(before.sync_customers),
        sync_invoices: input.sync_invoices.unwrap_or(before.sync_invoices),
        sync_payments: input.sync_payments.unwrap_or(before.sync_payments),
        pull_frequency_minutes: input
            .pull_frequency_minutes
            .unwrap_or(before.pull_frequency_minutes),
        diagnostic_until: match input.diagnostic_minutes {
            None => before.diagnostic_until,
            Some(0) => None,
            Some(minutes) => Some(now + TimeDelta::minutes(minutes)),
        },
        deposit_account_id: match input.deposit_account_id.as_deref().map(str::trim) {
            None => before.deposit_account_id.clone(),
            Some("") => None,
            Some(id) => Some(id.to_string()),
        },
    };
    let mut tx = db.begin().await.map_err(store)?;
    if !connections::update_settings(&mut tx, p.tenant_id, provider.as_str(), &after, now)
        .await
        .map_err(store)?
    {
        return Err(AppError::NotFound);
    }
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: "settings.changed".into(),
        entity_type: "Connection".into(),
        entity_id: provider.as_str().into(),
        order_id: None,
        before_json: Some(json!(before).to_string()),
        after_json: Some(json!(after).to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    Ok(after)
}
