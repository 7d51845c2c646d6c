//! The OpenAPI document of the JSON API, served at `/api/v1/openapi.json`. Built by utoipa from
//! the handlers' annotations; a test checks it names exactly the routes the router serves.

use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{api, commerce_api, console_api};

/// The error body every failing request returns.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// `{code, message, reference?}`: code is one of unauthenticated, forbidden, not_found,
    /// bad_request, conflict, too_many_requests, unavailable, internal.
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    code: String,
    message: String,
    /// For 500s: finds the server log line.
    reference: Option<String>,
}

/// Both ways to call the API: a browser session cookie, or a per-tenant bearer token.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ebt_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("erp_bridge_session"))),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "erp-bridge JSON API", description = "Commerce records, users and the ERP integration console. Money is integer minor units."),
    paths(
        api::me, api::list_users, api::create_user, api::get_user, api::update_user, api::list_tokens, api::create_token,
        api::revoke_token, api::list_connections,
        commerce_api::list_customers, commerce_api::create_customer, commerce_api::get_customer,
        commerce_api::update_customer, commerce_api::list_products, commerce_api::create_product,
        commerce_api::get_product, commerce_api::update_product, commerce_api::list_orders,
        commerce_api::create_order, commerce_api::get_order, commerce_api::update_order, commerce_api::mark_paid,
        commerce_api::add_payment, commerce_api::set_item_status, commerce_api::list_outbox, commerce_api::list_logs,
        commerce_api::retry_outbox, commerce_api::dismiss_outbox, commerce_api::close_breaker, commerce_api::retry_log, commerce_api::retry_failed,
        console_api::get_connection, console_api::update_settings, console_api::get_log,
        console_api::get_sync_run, console_api::list_sync_runs, console_api::list_mappings,
        console_api::export_sync_logs, console_api::export_audit, console_api::list_inbox, console_api::retry_inbox,
        super::reconciliation_api::report, super::reconciliation_api::report_csv, super::reconciliation_api::act,
        super::quickbooks::authorize, super::quickbooks::disconnect, super::quickbooks::manual_sync,
        super::netsuite::connect, super::netsuite::validate, super::netsuite::pull,
    ),
    modifiers(&Security),
    security(("api_token" = []), ("session" = []))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json` (public: it describes the API, no data).
pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
