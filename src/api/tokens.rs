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
/// without JavaScript it is also kept in the session — sealed under the master key, never in
/// clear — until the token page shows it.
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
                flash::keep(&ctx::state()?.cipher, &created).await?;
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
            flash::take(&ctx::state()?.cipher).await
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

/// The hand-over of a new token's secret across the no-JavaScript form's redirect.
#[cfg(feature = "ssr")]
mod flash {
    use crate::domain::user::{ApiTokenSummary, CreatedApiToken};
    use crate::error::AppError;
    use crate::server::crypto::Cipher;
    use crate::server::service::errors::internal;
    use secrecy::{ExposeSecret, SecretString};
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;

    const KEY: &str = "created_api_token";

    /// What the session holds: the listing, and the secret sealed (AES-256-GCM, master key).
    #[derive(Serialize, Deserialize)]
    struct Sealed {
        summary: ApiTokenSummary,
        sealed_token: String,
    }

    async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(internal)
    }

    pub async fn keep(cipher: &Cipher, created: &CreatedApiToken) -> Result<(), AppError> {
        let sealed = Sealed {
            summary: created.summary.clone(),
            sealed_token: cipher
                .seal(&SecretString::from(created.token.clone()))
                .map_err(internal)?,
        };
        session().await?.insert(KEY, sealed).await.map_err(internal)
    }

    pub async fn take(cipher: &Cipher) -> Result<Option<CreatedApiToken>, AppError> {
        let Some(sealed) = session()
            .await?
            .remove::<Sealed>(KEY)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let token = cipher.open(&sealed.sealed_token).map_err(internal)?;
        Ok(Some(CreatedApiToken {
            summary: sealed.summary,
            token: token.expose_secret().to_string(),
        }))
    }
}
