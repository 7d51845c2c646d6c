//! The integrations dashboard's view of a tenant's ERP connections (IntegrationsView).

use crate::domain::connection::{ConnectionStatus, ConnectionSummary, Provider};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::http::errors::store;
use crate::server::store::{connections, Db};

/// One card per provider; providers never connected show as "Not connected".
pub async fn list(db: &Db, principal: &Principal) -> Result<Vec<ConnectionSummary>, AppError> {
    principal.require(Policy::IntegrationsView)?;
    let rows = connections::list(db, principal.tenant_id)
        .await
        .map_err(store)?;
    Ok(Provider::ALL
        .into_iter()
        .map(|provider| {
            rows.iter()
                .find(|r| r.provider == provider.as_str())
                .map(|r| ConnectionSummary {
                    provider,
                    status: ConnectionStatus::from_stored(&r.status),
                    external_company_id: r.external_company_id.clone(),
                    company_name: r.company_name.clone(),
                    last_sync_at: r.last_sync_at,
                    last_sync_error: r.last_sync_error.clone(),
                    reconnect_reason: r.reconnect_reason.clone(),
                    auto_sync_enabled: r.auto_sync_enabled,
                })
                .unwrap_or_else(|| ConnectionSummary::not_connected(provider))
        })
        .collect())
}
