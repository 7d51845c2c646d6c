//! HTTP side of connecting NetSuite: the Admin's credentials in, the account's needs out
//! (never a secret), and re-checking a stored connection.

use axum::extract::State;
use axum::Json;

use super::extract::{Caller, ValidJson};
use super::openapi::ErrorBody;
use crate::domain::connection::{NetSuiteAccount, PullResult};
use crate::error::AppError;
use crate::server::service::netsuite::{self as ns_service, ConnectInput};
use crate::server::state::AppState;

/// Connects the tenant to a NetSuite account after trying the credentials.
#[utoipa::path(post, path = "/api/integrations/netsuite/connect", tag = "integrations",
    security(("session" = [])),
    request_body = ConnectInput,
    responses((status = 200, description = "Connected: what the account needs, no secret", body = NetSuiteAccount),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "Not an Admin, or an API token (connecting needs a person)", body = ErrorBody),
        (status = 409, description = "A OneWorld account without a valid subsidiary_id (the message lists them), or an account another tenant holds", body = ErrorBody),
        (status = 422, description = "NetSuite refused the credentials or could not be asked; the message says what to check. Nothing was stored", body = ErrorBody)))]
pub async fn connect(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidJson(input): ValidJson<ConnectInput>,
) -> Result<Json<NetSuiteAccount>, AppError> {
    Ok(Json(
        ns_service::connect(&s.db, s.netsuite.as_ref(), &p, input).await?,
    ))
}

/// Re-checks the stored credentials and records the outcome on the connection.
#[utoipa::path(post, path = "/api/integrations/netsuite/validate", tag = "integrations",
    responses((status = 200, description = "Checked: Connected, or ReconnectRequired with NetSuite's reason", body = NetSuiteAccount),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "NetSuite is not connected", body = ErrorBody),
        (status = 422, description = "NetSuite could not be asked", body = ErrorBody)))]
pub async fn validate(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<NetSuiteAccount>, AppError> {
    Ok(Json(
        ns_service::validate(&s.db, s.netsuite.as_ref(), &p).await?,
    ))
}

/// Pulls the account's changes now instead of at the next scheduled pull.
#[utoipa::path(post, path = "/api/integrations/netsuite/pull", tag = "integrations",
    responses((status = 200, description = "Pulled: how many changes were new (the inbound worker applies them within seconds)", body = PullResult),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "NetSuite is not connected", body = ErrorBody),
        (status = 422, description = "NetSuite could not be asked", body = ErrorBody)))]
pub async fn pull(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<PullResult>, AppError> {
    Ok(Json(
        ns_service::pull_now(&s.db, s.netsuite.as_ref(), &p).await?,
    ))
}
