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
