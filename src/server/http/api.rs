//! The JSON API: `/api/v1` (commerce and administration) and `/api/integrations`.
//!
//! Every route is listed once in [`routes`], which both builds the router and lets the RBAC test
//! enumerate them, so a route cannot be added without the test noticing. Handlers authenticate
//! (session or `Authorization: Bearer`), call one service function and map its error.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::{Json, Router};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::commerce_api as c;
use super::extract::{Caller, ValidJson, ValidPath};
use super::openapi::ErrorBody;
use crate::domain::connection::ConnectionSummary;
use crate::domain::user::{ApiTokenSummary, CreatedApiToken, UserSummary};
use crate::error::AppError;
use crate::server::service::api_tokens::NewTokenInput;
use crate::server::service::users::NewUserInput;
use crate::server::service::{api_tokens, connections, users};
use crate::server::state::AppState;

/// One JSON route.
pub struct ApiRoute {
    /// HTTP method.
    pub method: Method,
    /// Path in axum syntax (`/api/v1/users/{id}`).
    pub path: &'static str,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> ApiRoute {
    ApiRoute {
        method,
        path,
        handler,
    }
}

/// Every JSON route of the application.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        route(
            Method::GET,
            "/api/v1/openapi.json",
            get(super::openapi::document),
        ),
        route(Method::GET, "/api/v1/me", get(me)),
        route(Method::GET, "/api/v1/users", get(list_users)),
        route(Method::POST, "/api/v1/users", post(create_user)),
        route(Method::GET, "/api/v1/users/{id}", get(get_user)),
        route(Method::PATCH, "/api/v1/users/{id}", patch(update_user)),
        route(Method::GET, "/api/v1/api-tokens", get(list_tokens)),
        route(Method::POST, "/api/v1/api-tokens", post(create_token)),
        route(
            Method::DELETE,
            "/api/v1/api-tokens/{id}",
            delete(revoke_token),
        ),
        route(
            Method::GET,
            "/api/integrations/connections",
            get(list_connections),
        ),
        route(Method::GET, "/api/v1/customers", get(c::list_customers)),
        route(Method::POST, "/api/v1/customers", post(c::create_customer)),
        route(Method::GET, "/api/v1/customers/{id}", get(c::get_customer)),
        route(
            Method::PUT,
            "/api/v1/customers/{id}",
            put(c::update_customer),
        ),
        route(Method::GET, "/api/v1/products", get(c::list_products)),
        route(Method::POST, "/api/v1/products", post(c::create_product)),
        route(Method::GET, "/api/v1/products/{id}", get(c::get_product)),
        route(Method::PUT, "/api/v1/products/{id}", put(c::update_product)),
        route(Method::GET, "/api/v1/orders", get(c::list_orders)),
        route(Method::POST, "/api/v1/orders", post(c::create_order)),
        route(Method::GET, "/api/v1/orders/{id}", get(c::get_order)),
        route(Method::PATCH, "/api/v1/orders/{id}", patch(c::update_order)),
        route(
            Method::POST,
            "/api/v1/orders/{id}/mark-paid",
            post(c::mark_paid),
        ),
        route(
            Method::POST,
            "/api/v1/orders/{id}/payments",
            post(c::add_payment),
        ),
        route(
            Method::PATCH,
            "/api/v1/orders/{order_id}/items/{item_id}",
            patch(c::set_item_status),
        ),
        route(Method::GET, "/api/integrations/outbox", get(c::list_outbox)),
        route(Method::GET, "/api/integrations/logs", get(c::list_logs)),
        route(
            Method::GET,
            "/api/integrations/logs/{id}",
            get(super::console_api::get_log),
        ),
        route(
            Method::GET,
            "/api/integrations/mappings/{provider}/{entity_type}",
            get(super::console_api::list_mappings),
        ),
        route(
            Method::GET,
            "/api/integrations/export/sync-logs.csv",
            get(super::console_api::export_sync_logs),
        ),
        route(
            Method::GET,
            "/api/integrations/export/audit.csv",
            get(super::console_api::export_audit),
        ),
        route(
            Method::GET,
            "/api/integrations/quickbooks/reconciliation",
            get(super::reconciliation_api::report),
        ),
        route(
            Method::GET,
            "/api/integrations/quickbooks/reconciliation.csv",
            get(super::reconciliation_api::report_csv),
        ),
        route(
            Method::POST,
            "/api/integrations/quickbooks/reconciliation/actions",
            post(super::reconciliation_api::act),
        ),
        route(
            Method::GET,
            "/api/integrations/inbox",
            get(super::console_api::list_inbox),
        ),
        route(
            Method::POST,
            "/api/integrations/inbox/{id}/retry",
            post(super::console_api::retry_inbox),
        ),
        route(
            Method::GET,
            "/api/integrations/sync-runs",
            get(super::console_api::list_sync_runs),
        ),
        route(
            Method::GET,
            "/api/integrations/sync-runs/{id}",
            get(super::console_api::get_sync_run),
        ),
        route(
            Method::POST,
            "/api/integrations/outbox/{id}/retry",
            post(c::retry_outbox),
        ),
        route(
            Method::POST,
            "/api/integrations/outbox/{id}/dismiss",
            post(c::dismiss_outbox),
        ),
        route(
            Method::POST,
            "/api/integrations/connections/{provider}/breaker/close",
            post(c::close_breaker),
        ),
        route(
            Method::POST,
            "/api/integrations/logs/{id}/retry",
            post(c::retry_log),
        ),
        route(
            Method::POST,
            "/api/integrations/sync/{provider}/retry-failed",
            post(c::retry_failed),
        ),
        route(
            Method::PUT,
            "/api/integrations/connections/{provider}/settings",
            put(super::console_api::update_settings),
        ),
        route(
            Method::GET,
            "/api/integrations/connections/{provider}",
            get(super::console_api::get_connection),
        ),
        route(
            Method::DELETE,
            "/api/integrations/connections/{provider}",
            delete(super::quickbooks::disconnect),
        ),
        route(
            Method::POST,
            "/api/integrations/sync/{provider}",
            post(super::quickbooks::manual_sync),
        ),
        route(
            Method::GET,
            "/api/integrations/quickbooks/authorize",
            get(super::quickbooks::authorize),
        ),
        route(
            Method::POST,
            "/api/integrations/netsuite/connect",
            post(super::netsuite::connect),
        ),
        route(
            Method::POST,
            "/api/integrations/netsuite/validate",
            post(super::netsuite::validate),
        ),
        route(
            Method::POST,
            "/api/integrations/netsuite/pull",
            post(super::netsuite::pull),
        ),
    ]
}

/// The router for [`routes`] (routes sharing a path are merged).
pub fn router() -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for r in routes() {
        let merged = match by_path.remove(r.path) {
            Some(existing) => existing.merge(r.handler),
            None => r.handler,
        };
        by_path.insert(r.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
}

type ApiResult<T> = Result<T, AppError>;

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, description = "The caller: tenant, role, actor and user"), (status = 401, body = ErrorBody), (status = 404, description = "The signed-in user's tenant is gone", body = ErrorBody)))]
pub(super) async fn me(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<impl IntoResponse> {
    let user = users::current_user(&state.db, &p).await?;
    Ok(Json(json!({
        "tenant_id": p.tenant_id,
        "role": p.role,
        "actor": { "kind": p.actor.kind(), "id": p.actor.id() },
        "user": user,
    })))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_users(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::list(&state.db, &p).await?))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_user(
    State(state): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::get(&state.db, &p, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "Record id")), request_body = crate::server::service::user_access::UserUpdate, responses((status = 200, description = "The user after the change (applies from the user's next request)", body = UserSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The last active Admin, yourself deactivated, an unknown customer number, a Customer without one, or a customer number for another role", body = ErrorBody)))]
pub(super) async fn update_user(
    State(state): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(input): ValidJson<crate::server::service::user_access::UserUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        crate::server::service::user_access::update(&state.db, &p, id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserInput, responses((status = 201, body = UserSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_user(
    State(state): State<AppState>,
    Caller(p): Caller,
    ValidJson(input): ValidJson<users::NewUserInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(users::create(&state.db, &p, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens", responses((status = 200, body = Vec<ApiTokenSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(api_tokens::list(&state.db, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", request_body = NewTokenInput, security(("session" = [])), responses((status = 201, description = "The secret is in `token`, shown once", body = CreatedApiToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "Not an Admin, or an API token (tokens are made by a person)", body = ErrorBody)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    Caller(p): Caller,
    ValidJson(input): ValidJson<api_tokens::NewTokenInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(api_tokens::create(&state.db, &p, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", params(("id" = Uuid, Path, description = "Record id")), responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    api_tokens::revoke(&state.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/integrations/connections", tag = "integrations", responses((status = 200, body = Vec<ConnectionSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_connections(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        connections::list_with_credentials(&state.db, state.netsuite.as_ref(), &p).await?,
    ))
}
