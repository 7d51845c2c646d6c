//! The QuickBooks reconciliation report over JSON and CSV, and the actions on its rows (Admin).
//! Listed in [`super::api::routes`].

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::console_api::ExportParams;
use super::extract::{Caller, ValidJson, ValidQuery};
use super::openapi::ErrorBody;
use crate::domain::reconcile::{ReconActionInput, ReconReport};
use crate::error::AppError;
use crate::server::service::reconciliation;
use crate::server::state::AppState;

/// What an action did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ActionDone {
    /// In words.
    pub message: String,
}

#[utoipa::path(get, path = "/api/integrations/quickbooks/reconciliation", tag = "integrations", params(ExportParams), responses((status = 200, description = "Every difference between the orders placed in the range and QuickBooks' invoices, each with its actions; dismissed ones are counted, not listed", body = ReconReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "QuickBooks is not connected or could not be read", body = ErrorBody)))]
pub(super) async fn report(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<ExportParams>,
) -> Result<Json<ReconReport>, AppError> {
    let r = reconciliation::report(&s.db, s.qbo.as_ref(), &p, q.first_day(), q.last_day()).await?;
    Ok(Json(r))
}

#[utoipa::path(get, path = "/api/integrations/quickbooks/reconciliation.csv", tag = "integrations", params(ExportParams), responses((status = 200, description = "The report as CSV; cells a spreadsheet would run as formulas start with '", content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn report_csv(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<ExportParams>,
) -> Result<axum::response::Response, AppError> {
    let r = reconciliation::report(&s.db, s.qbo.as_ref(), &p, q.first_day(), q.last_day()).await?;
    let disposition = format!(
        "attachment; filename=\"quickbooks-reconciliation-{}-to-{}.csv\"",
        r.from, r.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        reconciliation::csv(&r)?,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/integrations/quickbooks/reconciliation/actions", tag = "integrations", request_body = ReconActionInput, responses((status = 200, body = ActionDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The row no longer applies (the invoice is gone, carries another order's marker, or is mapped elsewhere)", body = ErrorBody)))]
pub(super) async fn act(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidJson(input): ValidJson<ReconActionInput>,
) -> Result<Json<ActionDone>, AppError> {
    let message = reconciliation::act(&s.db, s.qbo.as_ref(), &p, input).await?;
    Ok(Json(ActionDone { message }))
}
