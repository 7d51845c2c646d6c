//! HTTP side of connecting QuickBooks: the authorize URL (JSON for scripts, a redirect for a
//! browser), Intuit's callback (a clear page when refused), and disconnect.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::extract::{Caller, ValidJson, ValidPath};
use super::openapi::ErrorBody;
use crate::error::AppError;
use crate::server::auth::CurrentPrincipal;
use crate::server::service::manual_sync::{self, ManualSyncInput, SyncResult};
use crate::server::service::quickbooks::{self as qbo_service, CallbackQuery, Connected};
use crate::server::state::AppState;

type ApiResult<T> = Result<T, AppError>;

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Starts connecting QuickBooks: `{"authorize_url": …}`, or a redirect to Intuit when a
/// browser navigates here.
#[utoipa::path(get, path = "/api/integrations/quickbooks/authorize", tag = "integrations",
    security(("session" = [])),
    responses((status = 200, description = "The Intuit consent URL", body = serde_json::Value), (status = 303, description = "Browser: redirect to Intuit"),
        (status = 400, description = "QuickBooks is not configured here", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "Not an Admin, or an API token (connecting needs a person)", body = ErrorBody)))]
pub async fn authorize(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let url = qbo_service::authorize_url(&s.db, s.qbo.as_ref(), &p).await?;
    if wants_html(&headers) {
        return Ok(Redirect::to(&url).into_response());
    }
    Ok(Json(json!({ "authorize_url": url })).into_response())
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · erp-bridge</title>\
         <link rel=\"stylesheet\" href=\"/pkg/erp_bridge.css\"></head><body><main class=\"page\">\
         <h1>{t}</h1><p role=\"alert\">{m}</p><p><a href=\"/integrations\">Back to Integrations</a></p></main></body></html>",
        t = esc(title),
        m = esc(message)
    );
    (status, Html(body)).into_response()
}

/// Intuit sends the browser back here. The caller's session must be the one that started the
/// flow (the `state` is bound to its tenant and user).
pub async fn callback(
    State(s): State<AppState>,
    Extension(current): Extension<CurrentPrincipal>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(p) = current.0 else {
        return page(StatusCode::UNAUTHORIZED, "Could not connect QuickBooks", "You are not signed in to erp-bridge. Sign in, then start connecting again from the integrations page.");
    };
    match qbo_service::complete(&s.db, s.qbo.as_ref(), &p, q).await {
        Ok(Connected::Company { .. }) => {
            Redirect::to("/integrations?connected=quickbooks").into_response()
        }
        Ok(Connected::Refused(why)) => page(
            StatusCode::BAD_REQUEST,
            "Could not connect QuickBooks",
            &why,
        ),
        Err(AppError::Forbidden) => page(
            StatusCode::FORBIDDEN,
            "Could not connect QuickBooks",
            "Only an Admin can connect QuickBooks.",
        ),
        Err(AppError::BadRequest(why)) => page(
            StatusCode::BAD_REQUEST,
            "Could not connect QuickBooks",
            &why,
        ),
        Err(e) => {
            tracing::error!(error = %e, "QuickBooks callback failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Could not connect QuickBooks",
                "Something went wrong on our side; nothing was connected. Try again in a moment.",
            )
        }
    }
}

/// Disconnects a provider (tokens revoked and deleted; mappings kept).
#[utoipa::path(delete, path = "/api/integrations/connections/{provider}", tag = "integrations",
    params(("provider" = inline(crate::server::service::sync_admin::ProviderSlug), Path, description = "The ERP")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disconnect(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
) -> ApiResult<StatusCode> {
    qbo_service::disconnect(&s.db, s.qbo.as_ref(), &p, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues customers or orders for one ERP now (PRD ManualSync).
#[utoipa::path(post, path = "/api/integrations/sync/{provider}", tag = "integrations",
    params(("provider" = inline(crate::server::service::sync_admin::ProviderSlug), Path, description = "The ERP")),
    request_body = ManualSyncInput,
    responses((status = 200, body = SyncResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "The ERP is not connected", body = ErrorBody)))]
pub async fn manual_sync(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
    ValidJson(input): ValidJson<ManualSyncInput>,
) -> ApiResult<Json<SyncResult>> {
    Ok(Json(
        manual_sync::manual_sync(&s.db, &p, &provider, input).await?,
    ))
}
