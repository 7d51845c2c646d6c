//! OAuth tokens of a connection, sealed at rest with the master key and opened only in memory.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use crate::domain::connection::Provider;
use crate::error::AppError;
use crate::server::crypto::Cipher;
use crate::server::service::errors::{internal, store};
use crate::server::store::tokens::{self, SealedTokens};
use crate::server::store::Db;
use crate::server::time;

/// A connection's tokens in memory.
#[derive(Debug)]
pub struct TokenSet {
    /// Bearer token for API calls.
    pub access_token: SecretString,
    /// Token that obtains new access tokens.
    pub refresh_token: SecretString,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// When the refresh token expires.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// Seals and stores `t` for the connection; `NotFound` when the tenant has none for `provider`.
pub async fn save(
    db: &Db,
    cipher: &Cipher,
    tenant_id: Uuid,
    provider: Provider,
    t: &TokenSet,
) -> Result<(), AppError> {
    let sealed = seal(cipher, t).map_err(internal)?;
    if tokens::store(db, tenant_id, provider.as_str(), &sealed, time::now())
        .await
        .map_err(store)?
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Seals a token set for storage.
pub fn seal(
    cipher: &Cipher,
    t: &TokenSet,
) -> Result<SealedTokens, crate::server::crypto::CryptoError> {
    Ok(SealedTokens {
        access_token_encrypted: Some(cipher.seal(&t.access_token)?),
        refresh_token_encrypted: Some(cipher.seal(&t.refresh_token)?),
        encryption_key_id: Some(cipher.key_id().to_string()),
        access_token_expires_at: Some(t.access_expires_at),
        refresh_token_expires_at: t.refresh_expires_at,
    })
}

/// Opens the connection's tokens; None when it has none (never connected, or disconnected).
pub async fn load(
    db: &Db,
    cipher: &Cipher,
    tenant_id: Uuid,
    provider: Provider,
) -> Result<Option<TokenSet>, AppError> {
    let Some(sealed) = tokens::load(db, tenant_id, provider.as_str())
        .await
        .map_err(store)?
    else {
        return Ok(None);
    };
    let (Some(access), Some(refresh), Some(expires)) = (
        sealed.access_token_encrypted,
        sealed.refresh_token_encrypted,
        sealed.access_token_expires_at,
    ) else {
        return Ok(None);
    };
    // The reason names the key id at most, never token material.
    let open = |v: &str| {
        cipher
            .open(v)
            .map_err(|e| internal(format!("stored token for tenant {tenant_id}: {e}")))
    };
    Ok(Some(TokenSet {
        access_token: open(&access)?,
        refresh_token: open(&refresh)?,
        access_expires_at: expires,
        refresh_expires_at: sealed.refresh_token_expires_at,
    }))
}
