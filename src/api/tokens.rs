//! The admin's API-token screen.

use crate::domain::user::{ApiTokenSummary, CreatedApiToken};
use crate::domain::Role;
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

/// The tenant's API tokens (ManageApiTokens).
#[server(prefix = "/rpc", endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenSummary>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::api_tokens::list(&ctx::state()?.db, &ctx::principal()?).await
        }
        .await,
    )
}

/// Creates a token (ManageApiTokens). The secret is in the result, once. For a form posted
/// without JavaScript it is also kept in the session until the token page shows it.
#[server(prefix = "/rpc", endpoint = "create_api_token")]
pub async fn create_api_token(name: String, role: Role) -> Result<CreatedApiToken, AppError> {
    use super::ctx;
    use crate::server::service::api_tokens;
    ctx::respond(
        async {
            let principal = ctx::principal()?;
            let created = api_tokens::create(
                &ctx::state()?.db,
                &principal,
                api_tokens::NewTokenInput { name, role },
            )
            .await?;
            if ctx::is_form_post() {
                if let Ok(session) = leptos_axum::extract::<tower_sessions::Session>().await {
                    let _ = session.insert(FLASH_TOKEN_KEY, &created).await;
                }
            }
            Ok(created)
        }
        .await,
    )
}

/// The token created by the last no-JavaScript form post, shown once, then forgotten.
#[server(prefix = "/rpc", endpoint = "take_created_api_token")]
pub async fn take_created_api_token() -> Result<Option<CreatedApiToken>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            ctx::principal()?.require(crate::domain::Policy::ManageApiTokens)?;
            let session = leptos_axum::extract::<tower_sessions::Session>()
                .await
                .map_err(crate::server::http::errors::internal)?;
            Ok(session
                .remove::<CreatedApiToken>(FLASH_TOKEN_KEY)
                .await
                .ok()
                .flatten())
        }
        .await,
    )
}

/// Revokes a token (ManageApiTokens).
#[server(prefix = "/rpc", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: Uuid) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::api_tokens::revoke(&ctx::state()?.db, &ctx::principal()?, id)
                .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
const FLASH_TOKEN_KEY: &str = "created_api_token";
