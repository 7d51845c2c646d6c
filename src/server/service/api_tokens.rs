//! API tokens for scripts using the JSON API (ManageApiTokens). The secret is shown once, at
//! creation; only its SHA-256 is stored.

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::user::{ApiTokenSummary, CreatedApiToken};
use crate::domain::{Policy, Role};
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::{internal, store};
use crate::server::store::{api_tokens, Db};
use crate::server::{crypto, time};

/// Prefix of every token, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "ebt_";

/// What an admin submits to create a token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTokenInput {
    /// A name saying what uses it: 1 to 100 characters, not only spaces.
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\u{85}]")]
    pub name: String,
    /// The role it acts with (any but Customer).
    #[schema(value_type = TokenRole)]
    pub role: Role,
}

/// The roles a token may have (the document's view of [`Role`] without Customer).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum TokenRole {
    /// Everything.
    Admin,
    /// Integrations and commerce.
    SalesManager,
    /// Commerce.
    SalesRep,
}

/// Creates a token for the caller's tenant.
pub async fn create(
    db: &Db,
    principal: &Principal,
    input: NewTokenInput,
) -> Result<CreatedApiToken, AppError> {
    principal.require(Policy::ManageApiTokens)?;
    // A token cannot mint tokens: only a signed-in person can (the route is session-only).
    let created_by = principal.user_id().ok_or(AppError::Forbidden)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Give the token a name of 1 to 100 characters.".into(),
        ));
    }
    if input.role == Role::Customer {
        return Err(AppError::BadRequest(
            "API tokens cannot have the Customer role.".into(),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", crypto::random_secret());
    let row = api_tokens::ApiTokenRow {
        id: Uuid::now_v7(),
        tenant_id: principal.tenant_id,
        name: name.to_string(),
        token_hash: crypto::hash_token(&secret),
        token_prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
        role: input.role.as_str().to_string(),
        created_by,
        created_at: time::now(),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    api_tokens::insert(db, &row).await.map_err(store)?;
    tracing::info!(token_id = %row.id, tenant_id = %row.tenant_id, "API token created");
    Ok(CreatedApiToken {
        summary: summarize(row)?,
        token: secret,
    })
}

/// Lists the tenant's tokens.
pub async fn list(db: &Db, principal: &Principal) -> Result<Vec<ApiTokenSummary>, AppError> {
    principal.require(Policy::ManageApiTokens)?;
    api_tokens::list(db, principal.tenant_id)
        .await
        .map_err(store)?
        .into_iter()
        .map(summarize)
        .collect()
}

/// Revokes a token of the tenant; another tenant's token is `NotFound`.
pub async fn revoke(db: &Db, principal: &Principal, id: Uuid) -> Result<(), AppError> {
    principal.require(Policy::ManageApiTokens)?;
    if api_tokens::revoke(db, principal.tenant_id, id, time::now())
        .await
        .map_err(store)?
    {
        tracing::info!(token_id = %id, tenant_id = %principal.tenant_id, "API token revoked");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn summarize(row: api_tokens::ApiTokenRow) -> Result<ApiTokenSummary, AppError> {
    Ok(ApiTokenSummary {
        role: row.role.parse().map_err(internal)?,
        id: row.id,
        name: row.name,
        prefix: row.token_prefix,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}
