//! Connecting a tenant to its QuickBooks Online company (PRD US-ERP-003): the authorize URL with
//! a server-side `state`, the callback that checks it, exchanges the code, stores the tokens
//! sealed and names the company, and disconnecting (revoked at Intuit, tokens deleted, the
//! row and mappings kept).

use serde::Deserialize;
use serde_json::json;

use super::connections::audit_event;
use super::oauth_state;
use crate::domain::connection::Provider;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::quickbooks::client::{QboError, TokenCallError};
use crate::server::erp::quickbooks::connector::{QuickBooks, PROVIDER};
use crate::server::service::errors::{internal, store};
use crate::server::service::tokens as token_service;
use crate::server::store::connections::{self, ConnectedCompany};
use crate::server::store::{tokens, Db};
use crate::server::time;

/// What Intuit sends back to the callback.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// Our state.
    pub state: Option<String>,
    /// The company chosen.
    pub realm_id: Option<String>,
    /// Set when the user refused (`access_denied`) or the request was wrong.
    pub error: Option<String>,
}

/// How a callback ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connected {
    /// Connected to this company.
    Company {
        /// Its name.
        name: String,
        /// Its realm id.
        realm: String,
    },
    /// Not connected; the message says why and what to do.
    Refused(String),
}

fn connector(qb: Option<&QuickBooks>) -> Result<&QuickBooks, AppError> {
    qb.ok_or_else(|| {
        AppError::BadRequest(
            "QuickBooks is not configured on this server: set QBO_CLIENT_ID and QBO_CLIENT_SECRET (see the README).".into(),
        )
    })
}

fn redirect_uri(qb: &QuickBooks) -> Result<String, AppError> {
    qb.client
        .settings()
        .redirect_uri
        .clone()
        .ok_or_else(|| internal("the QuickBooks redirect URI is not set"))
}

/// The Intuit consent URL for the caller (IntegrationsManage, a signed-in user): its `state`
/// is bound to the caller's tenant and user, valid ten minutes, usable once.
pub async fn authorize_url(
    db: &Db,
    qb: Option<&QuickBooks>,
    p: &Principal,
) -> Result<String, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let qb = connector(qb)?;
    let state = oauth_state::issue(db, p, Provider::QuickBooks).await?;
    qb.client
        .authorize_url(&redirect_uri(qb)?, &state)
        .map_err(|e| internal(e.to_string()))
}

/// Completes the connect flow for the caller.
pub async fn complete(
    db: &Db,
    qb: Option<&QuickBooks>,
    p: &Principal,
    q: CallbackQuery,
) -> Result<Connected, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let qb = connector(qb)?;
    let Some(state) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Connected::Refused(
            oauth_state::StateError::Unknown.to_string(),
        ));
    };
    // The state is used up whatever happens next.
    if let Err(e) = oauth_state::consume(db, p, Provider::QuickBooks, state).await? {
        return Ok(Connected::Refused(e.to_string()));
    }
    if let Some(err) = q.error.as_deref() {
        let why = if err == "access_denied" {
            "QuickBooks access was not granted, so nothing was connected. Start again from the integrations page if that was a mistake.".to_string()
        } else {
            format!(
                "QuickBooks refused the request ({err}). Start again from the integrations page."
            )
        };
        return Ok(Connected::Refused(why));
    }
    let (Some(code), Some(realm)) = (q.code.as_deref(), q.realm_id.as_deref()) else {
        return Ok(Connected::Refused(
            "QuickBooks sent back no code or company id. Start again from the integrations page."
                .into(),
        ));
    };
    // Realm ids are numbers; anything else was not written by Intuit.
    if realm.is_empty() || realm.len() > 32 || !realm.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Connected::Refused(
            "QuickBooks sent back a company id that is not a QuickBooks company id. Start again from the integrations page.".into(),
        ));
    }
    let tokens = match qb.client.exchange_code(&redirect_uri(qb)?, code).await {
        Ok(t) => t,
        Err(TokenCallError::InvalidGrant(_)) => {
            return Ok(Connected::Refused(
                "QuickBooks did not accept the sign-in code (it expired or was already used). Start again from the integrations page.".into(),
            ));
        }
        Err(TokenCallError::Other(cause)) => {
            tracing::error!(tenant_id = %p.tenant_id, %realm, %cause, "QuickBooks code exchange failed");
            return Ok(Connected::Refused(format!("QuickBooks could not be reached to finish connecting ({cause}). Try again in a moment.")));
        }
    };
    // The realm id arrives in the query string, which the browser (and so anyone) can edit. Only
    // a company the new token can read is accepted: a token is good for the one company its
    // owner granted, so an edited id fails here.
    let name = match qb.client.company_name(realm, &tokens.access_token).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(tenant_id = %p.tenant_id, %realm, error = %e, "could not read CompanyInfo for the callback's realm; not connecting");
            let why = match e {
                QboError::Auth { .. } | QboError::Fault { .. } => "QuickBooks did not confirm access to that company, so nothing was connected. Start again from the integrations page.",
                _ => "QuickBooks could not be reached to confirm the company, so nothing was connected. Try again in a moment.",
            };
            return Ok(Connected::Refused(why.into()));
        }
    };
    if let Some(owner) = connections::tenant_for_company(db, PROVIDER, realm)
        .await
        .map_err(store)?
    {
        if owner != p.tenant_id {
            // The new tokens are dropped, not revoked: revoking ends the app's grant for the
            // whole company, which would disconnect the tenant that holds it.
            return Ok(Connected::Refused(
                "This QuickBooks company is already connected to another erp-bridge account. Disconnect it there first.".into(),
            ));
        }
    }
    let sealed = token_service::seal(&qb.cipher, &tokens).map_err(internal)?;
    let who = p.actor.id().to_string();
    let company = ConnectedCompany {
        provider: PROVIDER,
        external_company_id: realm,
        company_name: &name,
        connected_by: &who,
    };
    connections::connect_with_tokens(db, p.tenant_id, &company, &sealed, time::now())
        .await
        .map_err(store)?;
    audit_event(
        db,
        p,
        Provider::QuickBooks,
        "integration.connected",
        json!({ "provider": PROVIDER, "realm": realm, "company": name }),
    )
    .await?;
    tracing::info!(tenant_id = %p.tenant_id, %realm, company = %name, "QuickBooks connected");
    Ok(Connected::Company {
        name,
        realm: realm.to_string(),
    })
}

/// Disconnects a provider: QuickBooks tokens are revoked at Intuit (a failure there is logged;
/// the tokens are deleted here either way), the connection becomes Not Connected, mappings
/// stay for a later reconnect.
pub async fn disconnect(
    db: &Db,
    qb: Option<&QuickBooks>,
    p: &Principal,
    provider: &str,
) -> Result<(), AppError> {
    p.require(Policy::IntegrationsManage)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    if provider == Provider::QuickBooks {
        if let Some(qb) = qb {
            match token_service::load(db, &qb.cipher, p.tenant_id, provider).await {
                Ok(Some(t)) => {
                    if let Err(e) = qb.client.revoke(&t.refresh_token).await {
                        tracing::warn!(tenant_id = %p.tenant_id, cause = %e, "revoking the QuickBooks grant failed; deleting the tokens anyway");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(tenant_id = %p.tenant_id, cause = %e, "stored QuickBooks tokens unreadable; deleting them")
                }
            }
        }
    }
    if !tokens::disconnect(db, p.tenant_id, provider.as_str(), time::now())
        .await
        .map_err(store)?
    {
        return Err(AppError::NotFound);
    }
    audit_event(
        db,
        p,
        provider,
        "integration.disconnected",
        json!({ "provider": provider.as_str() }),
    )
    .await
}
