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
use crate::domain::sync::{InboxItem, MappingItem, SyncLogDetail, SyncRun};
use crate::error::AppError;
use crate::server::service::connection_settings::{self, SettingsInput};
use crate::server::service::mappings_view::{self, MappingQuery};
use crate::server::service::sync_admin::ProviderSlug;
use crate::server::service::{exports, inbox_view, sync_log_view, sync_runs};
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

#[utoipa::path(put, path = "/api/integrations/connections/{provider}/settings", tag = "integrations", params(("provider" = inline(ProviderSlug), Path, description = "The ERP")), request_body = SettingsInput, responses((status = 204, description = "Saved; fields left out keep their value"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "A setting this ERP does not have (a deposit account outside QuickBooks)", body = ErrorBody)))]
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

/// `?q=&page=&per_page=` of the mapping viewer.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MappingParams {
    /// Our record's id or the ERP's (exact).
    #[param(max_length = 200)]
    q: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

/// Entity types that have mappings, as the path names them.
#[derive(Clone, Copy, Debug, utoipa::ToSchema)]
pub enum MappedEntity {
    /// Customers.
    Customer,
    /// Orders (QuickBooks invoices, NetSuite sales orders).
    Order,
    /// Order lines (`{invoice}:{line}`).
    OrderLine,
    /// Products (QuickBooks items).
    Product,
    /// Payments.
    Payment,
}

#[utoipa::path(get, path = "/api/integrations/mappings/{provider}/{entity_type}", tag = "integrations", params(("provider" = inline(ProviderSlug), Path, description = "The ERP"), ("entity_type" = inline(MappedEntity), Path, description = "What kind of record"), MappingParams), responses((status = 200, description = "The mappings of the company the ERP is (or was last) connected to, by our id", body = Page<MappingItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_mappings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath((provider, entity_type)): ValidPath<(String, String)>,
    ValidQuery(q): ValidQuery<MappingParams>,
) -> Result<impl IntoResponse, AppError> {
    if q.q.as_deref().is_some_and(|v| v.chars().count() > 200) {
        return Err(AppError::BadRequest("q is at most 200 characters.".into()));
    }
    let query = MappingQuery {
        q: q.q,
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(
        mappings_view::list(&s.db, &p, &provider, &entity_type, query).await?,
    ))
}

/// `?from=&to=` of an export: whole UTC days, `to` included (default: the last 31 days).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// First day (YYYY-MM-DD).
    #[param(format = Date)]
    from: Option<String>,
    /// Last day, included (YYYY-MM-DD).
    #[param(format = Date)]
    to: Option<String>,
}

impl ExportParams {
    /// The first day as given.
    pub fn first_day(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// The last day as given.
    pub fn last_day(&self) -> Option<&str> {
        self.to.as_deref()
    }
}

fn csv_download(
    s: &AppState,
    p: &crate::server::auth::Principal,
    kind: exports::Export,
    q: &ExportParams,
) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    let range = exports::range(q.from.as_deref(), q.to.as_deref())?;
    let body = axum::body::Body::from_stream(exports::stream(s.db.clone(), p, kind, range)?);
    let disposition = format!(
        "attachment; filename=\"{}\"",
        kind.file_name(range.0, range.1)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/integrations/export/sync-logs.csv", tag = "integrations", params(ExportParams), responses((status = 200, description = "Every sync log row of the range, oldest first, streamed; cells a spreadsheet would run as formulas start with '", content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn export_sync_logs(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<ExportParams>,
) -> Result<axum::response::Response, AppError> {
    csv_download(&s, &p, exports::Export::SyncLogs, &q)
}

#[utoipa::path(get, path = "/api/integrations/export/audit.csv", tag = "integrations", params(ExportParams), responses((status = 200, description = "Every audit event of the range, oldest first, streamed; cells a spreadsheet would run as formulas start with '", content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn export_audit(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<ExportParams>,
) -> Result<axum::response::Response, AppError> {
    csv_download(&s, &p, exports::Export::Audit, &q)
}

/// An inbox status.
#[derive(Clone, Copy, Debug, serde::Deserialize, utoipa::ToSchema)]
pub enum InboxStatus {
    /// Waiting to be processed.
    Pending,
    /// Being processed.
    InProgress,
    /// Processed.
    Completed,
    /// Failed (see its last error).
    Failed,
    /// Nothing to do.
    Skipped,
}

/// `?status=&page=&per_page=` of the inbox viewer.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Only this status.
    #[param(inline)]
    status: Option<InboxStatus>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/integrations/inbox", tag = "integrations", params(InboxParams), responses((status = 200, description = "Events the ERPs sent, newest first", body = Page<InboxItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_inbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<InboxParams>,
) -> Result<impl IntoResponse, AppError> {
    let status = q.status.map(|s| format!("{s:?}"));
    Ok(Json(
        inbox_view::list(&s.db, &p, status.as_deref(), q.page, q.per_page).await?,
    ))
}

/// How many events were put back in line.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Requeued {
    /// Events put back in line.
    requeued: u64,
}

#[utoipa::path(post, path = "/api/integrations/inbox/{id}/retry", tag = "integrations", params(("id" = Uuid, Path, description = "Inbox event id")), responses((status = 200, body = Requeued), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn retry_inbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> Result<impl IntoResponse, AppError> {
    let requeued = inbox_view::retry(&s.db, &p, Some(id)).await?;
    Ok(Json(Requeued { requeued }))
}
