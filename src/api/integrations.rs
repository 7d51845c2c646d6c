//! The integrations dashboard.

use crate::domain::connection::ConnectionSummary;
use crate::error::AppError;
use leptos::prelude::*;

/// One card per ERP (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionSummary>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::connections::list(&ctx::state()?.db, &ctx::principal()?).await
        }
        .await,
    )
}

/// Disconnects an ERP (IntegrationsManage): tokens revoked and deleted, mappings kept.
#[server(prefix = "/rpc", endpoint = "disconnect_provider")]
pub async fn disconnect_provider(provider: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::server::service::quickbooks::disconnect(
                &state.db,
                state.qbo.as_ref(),
                &ctx::principal()?,
                &provider,
            )
            .await
        }
        .await,
    )
}

/// Closes an ERP's circuit breaker so deliveries resume now (IntegrationsManage; audited).
#[server(prefix = "/rpc", endpoint = "close_breaker")]
pub async fn close_breaker(provider: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_admin::close_breaker(
                &ctx::state()?.db,
                &ctx::principal()?,
                &provider,
            )
            .await
        }
        .await,
    )
}
