//! The OAuth `state` check of the connect flows (PRD § 9): a random state bound to (tenant,
//! user, provider), valid for ten minutes, usable once. Only its hash is stored.

use chrono::TimeDelta;

use crate::domain::connection::Provider;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::oauth_states::{self, StateOwner};
use crate::server::store::Db;
use crate::server::{crypto, time};

/// How long a state is valid.
pub const STATE_TTL: TimeDelta = TimeDelta::minutes(10);

/// Why a callback's state was refused; each says what the person should do.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Unknown, already used, or forged.
    #[error("This sign-in link is not valid or was already used. Start connecting again from the integrations page.")]
    Unknown,
    /// Older than ten minutes.
    #[error("This sign-in link expired. Start connecting again from the integrations page.")]
    Expired,
    /// Started by another user, tenant or for another provider.
    #[error("This sign-in link was started by another user. Start connecting again from your own account.")]
    WrongOwner,
}

/// Issues a state for `principal` connecting `provider` (a signed-in user, not an API token).
pub async fn issue(db: &Db, principal: &Principal, provider: Provider) -> Result<String, AppError> {
    let user_id = principal.user_id().ok_or(AppError::Forbidden)?;
    let state = crypto::random_secret();
    let now = time::now();
    let owner = StateOwner {
        tenant_id: principal.tenant_id,
        user_id,
        provider: provider.as_str().into(),
        expires_at: now + STATE_TTL,
    };
    oauth_states::insert(db, &crypto::hash_token(&state), &owner, now)
        .await
        .map_err(store)?;
    Ok(state)
}

/// Consumes `state` for the caller: it must exist, be unexpired, and belong to the same tenant,
/// user and provider. It is gone afterwards whatever the outcome.
pub async fn consume(
    db: &Db,
    principal: &Principal,
    provider: Provider,
    state: &str,
) -> Result<Result<(), StateError>, AppError> {
    let Some(owner) = oauth_states::take(db, &crypto::hash_token(state))
        .await
        .map_err(store)?
    else {
        return Ok(Err(StateError::Unknown));
    };
    if owner.expires_at < time::now() {
        return Ok(Err(StateError::Expired));
    }
    let same = owner.tenant_id == principal.tenant_id
        && Some(owner.user_id) == principal.user_id()
        && owner.provider == provider.as_str();
    Ok(if same {
        Ok(())
    } else {
        Err(StateError::WrongOwner)
    })
}
