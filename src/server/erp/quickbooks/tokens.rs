//! Access tokens for API calls: validated before every call and refreshed before expiry, with
//! one refresh at a time per connection across processes (a database claim on the connection
//! row). The rotated refresh token is stored before the new access token is used; Intuit's
//! `invalid_grant` parks the connection as "reconnect required". Failures are logged with
//! tenant, realm and cause — never a token.

use chrono::TimeDelta;
use secrecy::SecretString;
use std::time::Duration;
use uuid::Uuid;

use super::client::TokenCallError;
use super::connector::{QuickBooks, PROVIDER};
use crate::domain::connection::Provider;
use crate::server::erp::DeliveryError;
use crate::server::service::tokens as token_service;
use crate::server::store::{connections, tokens as token_store};
use crate::server::time;

/// How long a refresh claim lasts (a crashed holder's claim expires after this).
const CLAIM_TTL: TimeDelta = TimeDelta::seconds(30);
/// How long a caller waits for another process's refresh before giving up for now.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(35);

/// A usable access token for a connection's company.
pub struct Access {
    /// Bearer token.
    pub token: SecretString,
    /// The company (realm id).
    pub realm: String,
}

/// Why no access token is available.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The tenant has no working QuickBooks connection (never connected, disconnected, or
    /// waiting for an Admin to reconnect).
    #[error("{0}")]
    NotConnected(String),
    /// Intuit refused the refresh token; an Admin must reconnect.
    #[error("QuickBooks refused the refresh token (invalid_grant: {0}); an Admin must reconnect QuickBooks")]
    ReconnectRequired(String),
    /// A temporary problem (Intuit unavailable, a refresh elsewhere taking too long, storage).
    #[error("{0}")]
    Unavailable(String),
}

impl From<AccessError> for DeliveryError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::NotConnected(m) => DeliveryError::Auth { message: m },
            AccessError::ReconnectRequired(_) => DeliveryError::Auth {
                message: err.to_string(),
            },
            AccessError::Unavailable(m) => DeliveryError::retryable(m),
        }
    }
}

impl QuickBooks {
    /// A valid access token for the tenant's QuickBooks company, refreshed when it has less
    /// than the configured margin left.
    pub async fn access(&self, tenant_id: Uuid) -> Result<Access, AccessError> {
        let started = std::time::Instant::now();
        loop {
            let view = connections::worker_view(&self.db, tenant_id, PROVIDER)
                .await
                .map_err(|e| {
                    AccessError::Unavailable(format!("reading the connection failed: {e}"))
                })?;
            let Some(view) = view else {
                return Err(AccessError::NotConnected(
                    "QuickBooks is not connected".into(),
                ));
            };
            let realm = view.external_company_id.clone().unwrap_or_default();
            if view.status != "Connected" {
                return Err(AccessError::NotConnected(format!(
                    "the QuickBooks connection is {}",
                    view.status
                )));
            }
            let tokens = self.load(tenant_id, &realm).await?;
            if tokens.access_expires_at - self.client.settings().refresh_margin > time::now() {
                return Ok(Access {
                    token: tokens.access_token,
                    realm,
                });
            }
            let now = self.db.now().await.map_err(|e| {
                AccessError::Unavailable(format!("reading the database clock failed: {e}"))
            })?;
            let claimed = connections::claim_token_refresh(
                &self.db,
                tenant_id,
                PROVIDER,
                &self.owner,
                now,
                now + CLAIM_TTL,
            )
            .await
            .map_err(|e| {
                AccessError::Unavailable(format!("claiming the token refresh failed: {e}"))
            })?;
            if claimed {
                // The refresh runs as its own task: a caller that gives up (a delivery past its
                // deadline) must not cut it between Intuit rotating the refresh token and our
                // storing the new one, or the connection would be lost.
                let this = self.clone();
                let refresh =
                    tokio::spawn(async move { this.refresh_claimed(tenant_id, &realm).await });
                return refresh.await.unwrap_or_else(|e| {
                    Err(AccessError::Unavailable(format!(
                        "the token refresh task failed: {e}"
                    )))
                });
            }
            if started.elapsed() > WAIT_FOR_OTHERS {
                tracing::warn!(%tenant_id, %realm, "QuickBooks token refresh by another process is taking too long");
                return Err(AccessError::Unavailable(
                    "a QuickBooks token refresh elsewhere is taking too long".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn load(
        &self,
        tenant_id: Uuid,
        realm: &str,
    ) -> Result<token_service::TokenSet, AccessError> {
        match token_service::load(&self.db, &self.cipher, tenant_id, Provider::QuickBooks).await {
            Ok(Some(t)) => Ok(t),
            Ok(None) => {
                tracing::error!(%tenant_id, %realm, cause = "no stored tokens", "QuickBooks token retrieval failed");
                Err(AccessError::NotConnected(
                    "QuickBooks has no stored tokens; connect it again".into(),
                ))
            }
            Err(e) => {
                tracing::error!(%tenant_id, %realm, cause = %e, "QuickBooks token retrieval failed");
                Err(AccessError::Unavailable(format!(
                    "stored QuickBooks tokens could not be read: {e}"
                )))
            }
        }
    }

    /// Refreshes under a held claim. Another process may have refreshed between our read and
    /// our claim, so the tokens are read again first.
    async fn refresh_claimed(&self, tenant_id: Uuid, realm: &str) -> Result<Access, AccessError> {
        let release =
            || connections::release_token_refresh(&self.db, tenant_id, PROVIDER, &self.owner);
        let tokens = match self.load(tenant_id, realm).await {
            Ok(t) => t,
            Err(e) => {
                let _ = release().await;
                return Err(e);
            }
        };
        if tokens.access_expires_at - self.client.settings().refresh_margin > time::now() {
            let _ = release().await;
            return Ok(Access {
                token: tokens.access_token,
                realm: realm.to_string(),
            });
        }
        match self.client.refresh(&tokens.refresh_token).await {
            Ok(fresh) => {
                let sealed = match token_service::seal(&self.cipher, &fresh) {
                    Ok(sealed) => sealed,
                    Err(e) => {
                        let _ = release().await;
                        return Err(AccessError::Unavailable(format!(
                            "sealing refreshed tokens failed: {e}"
                        )));
                    }
                };
                let stored = token_store::store_refreshed(
                    &self.db,
                    tenant_id,
                    PROVIDER,
                    &sealed,
                    &self.owner,
                    time::now(),
                )
                .await;
                if let Ok(false) = stored {
                    tracing::warn!(%tenant_id, %realm, "QuickBooks was disconnected during a token refresh; the new tokens are dropped");
                    let _ = release().await;
                    return Err(AccessError::NotConnected(
                        "QuickBooks was disconnected".into(),
                    ));
                }
                if let Err(e) = stored {
                    // The new refresh token could not be kept: say so loudly; the previous one
                    // stays valid at Intuit for 24 hours, so a retry can still recover.
                    tracing::error!(%tenant_id, %realm, cause = %e, "storing refreshed QuickBooks tokens failed");
                    let _ = release().await;
                    return Err(AccessError::Unavailable(format!(
                        "storing refreshed tokens failed: {e}"
                    )));
                }
                metrics::counter!("qbo_token_refreshes_total").increment(1);
                tracing::info!(%tenant_id, %realm, "QuickBooks access token refreshed");
                Ok(Access {
                    token: fresh.access_token,
                    realm: realm.to_string(),
                })
            }
            Err(TokenCallError::InvalidGrant(cause)) => {
                tracing::error!(%tenant_id, %realm, %cause, "QuickBooks token refresh failed: invalid_grant; reconnect required");
                metrics::counter!("qbo_reconnect_required_total").increment(1);
                let reason = format!(
                    "QuickBooks refused the refresh token (invalid_grant: {cause}). Reconnect QuickBooks."
                );
                let _ = connections::mark_reconnect_required(
                    &self.db,
                    tenant_id,
                    PROVIDER,
                    Some(realm),
                    &reason,
                    time::now(),
                )
                .await;
                let _ = release().await;
                Err(AccessError::ReconnectRequired(cause))
            }
            Err(TokenCallError::Other(cause)) => {
                tracing::warn!(%tenant_id, %realm, %cause, "QuickBooks token refresh failed; will retry");
                let _ = release().await;
                Err(AccessError::Unavailable(format!(
                    "QuickBooks token refresh failed: {cause}"
                )))
            }
        }
    }
}
