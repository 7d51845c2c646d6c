//! Resolves the caller of each request into a [`CurrentPrincipal`] request extension: from an
//! `Authorization: Bearer` API token, else from the session. A bad bearer token is refused
//! outright (401) rather than treated as anonymous, so a script learns its token is wrong.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::principal::{Actor, CurrentPrincipal, Principal};
use crate::domain::Role;
use crate::error::AppError;
use crate::server::http::errors::{error_response, internal};
use crate::server::state::AppState;
use crate::server::store::{api_tokens, users};
use crate::server::{crypto, time};

/// The session key holding the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";

/// Middleware: inserts [`CurrentPrincipal`] into the request's extensions.
pub async fn resolve_principal(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let resolved = match bearer {
        Some(token) => from_token(&state, &token)
            .await
            .and_then(|p| p.ok_or(AppError::Unauthenticated))
            .map(Some),
        None => match req.extensions().get::<Session>().cloned() {
            Some(session) => from_session(&state, &session).await,
            None => Ok(None),
        },
    };
    match resolved {
        Ok(principal) => {
            req.extensions_mut().insert(CurrentPrincipal(principal));
            next.run(req).await
        }
        Err(err) => error_response(&req, err).into_response(),
    }
}

async fn from_token(state: &AppState, token: &str) -> Result<Option<Principal>, AppError> {
    let now = time::now();
    let hash = crypto::hash_token(token);
    let Some(row) = api_tokens::find_usable_by_hash(&state.db, &hash, now)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let role: Role = row.role.parse().map_err(internal)?;
    if let Err(err) = api_tokens::touch(&state.db, row.id, now).await {
        tracing::warn!(token_id = %row.id, error = %err, "could not record API token use");
    }
    Ok(Some(Principal {
        tenant_id: row.tenant_id,
        actor: Actor::ApiToken(row.id),
        role,
        customer_id: None,
    }))
}

async fn from_session(state: &AppState, session: &Session) -> Result<Option<Principal>, AppError> {
    let user_id = match session.get::<Uuid>(SESSION_USER_KEY).await {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(None),
        Err(err) => {
            tracing::warn!(error = %err, "unreadable session; treating the caller as signed out");
            return Ok(None);
        }
    };
    let Some(user) = users::find_active_for_session(&state.db, user_id)
        .await
        .map_err(internal)?
    else {
        // The user was deactivated or deleted since signing in: end the session.
        let _ = session.flush().await;
        return Ok(None);
    };
    let role: Role = user.role.parse().map_err(internal)?;
    Ok(Some(Principal {
        tenant_id: user.tenant_id,
        actor: Actor::User(user.id),
        role,
        customer_id: user.customer_id,
    }))
}
