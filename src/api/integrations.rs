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

/// A page of the sync log (IntegrationsView), filtered as the log page's form says.
#[server(prefix = "/rpc", endpoint = "list_sync_logs")]
pub async fn list_sync_logs(
    filter: crate::domain::sync::LogFilterInput,
) -> Result<crate::domain::commerce::Page<crate::domain::sync::SyncLogItem>, AppError> {
    use super::ctx;
    use crate::server::service::sync_log_view::{self, LogQuery};
    ctx::respond(
        async {
            let principal = ctx::principal()?;
            let query = LogQuery::from_form(filter)?;
            sync_log_view::list(&ctx::state()?.db, &principal, query).await
        }
        .await,
    )
}
