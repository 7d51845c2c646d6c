//! The integrations dashboard's view of a tenant's ERP connections (IntegrationsView): status,
//! delivery counts and whether the circuit breaker has paused deliveries.

use crate::domain::connection::{ConnectionStatus, ConnectionSummary, Provider};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::netsuite::connector::NetSuite;
use crate::server::service::errors::store;
use crate::server::store::{connections, health, outbox, Db};
use crate::server::time;

/// One card per provider; providers never connected show as "Not connected".
pub async fn list(db: &Db, principal: &Principal) -> Result<Vec<ConnectionSummary>, AppError> {
    principal.require(Policy::IntegrationsView)?;
    let rows = connections::list(db, principal.tenant_id)
        .await
        .map_err(store)?;
    let counts = outbox::count_for_tenant(db, principal.tenant_id)
        .await
        .map_err(store)?;
    let now = time::now();
    let mut cards = Vec::new();
    for provider in Provider::ALL {
        let Some(r) = rows.iter().find(|r| r.provider == provider.as_str()) else {
            cards.push(ConnectionSummary::not_connected(provider));
            continue;
        };
        let count = |statuses: &[&str]| {
            counts
                .iter()
                .filter(|(p, s, _)| {
                    p.as_deref() == Some(provider.as_str()) && statuses.contains(&s.as_str())
                })
                .map(|(_, _, n)| n)
                .sum::<i64>()
        };
        let breaker = health::get(db, principal.tenant_id, provider.as_str())
            .await
            .map_err(store)?;
        cards.push(ConnectionSummary {
            provider,
            status: ConnectionStatus::from_stored(&r.status),
            external_company_id: r.external_company_id.clone(),
            company_name: r.company_name.clone(),
            last_sync_at: r.last_sync_at,
            last_sync_error: r.last_sync_error.clone(),
            reconnect_reason: r.reconnect_reason.clone(),
            auto_sync_enabled: r.auto_sync_enabled,
            pending: count(&[outbox::status::PENDING, outbox::status::PROCESSING]),
            failed: count(&[outbox::status::FAILED]),
            abandoned: count(&[outbox::status::ABANDONED]),
            paused_until: breaker
                .open_until
                .filter(|t| breaker.state == "Open" && *t > now),
            paused_reason: crate::server::outbox::breaker::explain(&breaker),
            credentials_expire_at: None,
            credentials_days_left: None,
        });
    }
    Ok(cards)
}

/// The cards with what only the sealed credentials tell: when a NetSuite M2M certificate
/// expires (shown on the card, and warned about 30 days ahead).
pub async fn list_with_credentials(
    db: &Db,
    ns: Option<&NetSuite>,
    principal: &Principal,
) -> Result<Vec<ConnectionSummary>, AppError> {
    let mut cards = list(db, principal).await?;
    if let Some(ns) = ns {
        for card in cards.iter_mut().filter(|c| {
            c.provider == Provider::NetSuite && c.status != ConnectionStatus::NotConnected
        }) {
            let at = super::netsuite::certificate_expiry(db, ns, principal.tenant_id).await;
            card.credentials_expire_at = at;
            // Whole days left; an expiry already past is never "0 days".
            let now = time::now();
            card.credentials_days_left = at.map(|t| {
                let days = (t - now).num_days();
                if t <= now {
                    days.min(-1)
                } else {
                    days
                }
            });
        }
    }
    Ok(cards)
}

/// Audits something done to a tenant's connection to `provider` (connected, disconnected,
/// validated, …), with what it became.
pub(crate) async fn audit_event(
    db: &Db,
    p: &Principal,
    provider: Provider,
    action: &str,
    after: serde_json::Value,
) -> Result<(), AppError> {
    use crate::server::store::audit;
    let mut tx = db.begin().await.map_err(store)?;
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: action.into(),
        entity_type: "IntegrationConnection".into(),
        entity_id: provider.as_str().into(),
        order_id: None,
        before_json: None,
        after_json: Some(after.to_string()),
        request_id: None,
        created_at: time::now(),
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)
}
