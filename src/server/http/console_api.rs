//! JSON handlers for one connection of the integrations console (its card and settings) and
//! one sync log entry, and sync runs.
//! Listed in [`super::api::routes`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use super::commerce_api::PageQuery;
use super::extract::ValidQuery;
use super::extract::{Caller, ValidJson, ValidPath};
use super::openapi::ErrorBody;
use crate::domain::commerce::Page;
use crate::domain::connection::ConnectionDetail;
use crate::domain::sync::{SyncLogDetail, SyncRun};
use crate::error::AppError;
use crate::server::service::connection_settings::{self, SettingsInput};
use crate::server::service::sync_admin::ProviderSlug;
use crate::server::service::{sync_log_view, sync_runs};
use crate::server::state::AppState;
use uuid::Uuid;

#[utoipa::path(get, path = "/api/integrations/connections/{provider}", tag = "integrations", params(("provider" = inline(ProviderSlug), Path, description = "The ERP")), responses((status = 200, body = ConnectionDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn get_connection(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(connection_settings::get(&s.db, &p, &provider).await?))
}

#[utoipa::path(put, path = "/api/integrations/connections/{provider}/settings", tag = "integrations", params(("provider" = inline(ProviderSlug), Path, description = "The ERP")), request_body = SettingsInput, responses((status = 204, description = "Saved; fields left out keep their value"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
    ValidJson(b): ValidJson<SettingsInput>,
) -> Result<impl IntoResponse, AppError> {
    connection_settings::update(&s.db, &p, &provider, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/integrations/logs/{id}", tag = "integrations", params(("id" = Uuid, Path, description = "The log entry")), responses((status = 200, body = SyncLogDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(sync_log_view::detail(&s.db, &p, id).await?))
}

#[utoipa::path(get, path = "/api/integrations/sync-runs/{id}", tag = "integrations", params(("id" = Uuid, Path, description = "The run (`run_id` of a manual sync)")), responses((status = 200, body = SyncRun), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_sync_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(sync_runs::get(&s.db, &p, id).await?))
}

#[utoipa::path(get, path = "/api/integrations/sync-runs", tag = "integrations", params(PageQuery), responses((status = 200, body = Page<SyncRun>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_sync_runs(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(sync_runs::list(&s.db, &p, q.page, q.per_page).await?))
}
