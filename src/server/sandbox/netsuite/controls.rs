//! The NetSuite sandbox's control routes (`/_sandbox/…`, behind the sandbox guard): fault
//! injection, the concurrency limit, counters, the login audit trail, and registering what an
//! Admin registers in NetSuite — an M2M certificate, a TBA token — or revoking bearer tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;

use super::fault::Fail;
use super::{store, Faults, Sandbox};

pub(super) async fn get_faults(State(s): State<Sandbox>) -> Json<Faults> {
    Json(s.inner.faults.read().map(|f| f.clone()).unwrap_or_default())
}

pub(super) async fn set_faults(State(s): State<Sandbox>, Json(f): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&f.error_rate_5xx) {
        return (StatusCode::BAD_REQUEST, "error rates are between 0 and 1").into_response();
    }
    if let Ok(mut cur) = s.inner.faults.write() {
        *cur = f;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub(super) struct LimitsBody {
    concurrency: u32,
}

pub(super) async fn set_limits(State(s): State<Sandbox>, Json(l): Json<LimitsBody>) -> Response {
    if l.concurrency == 0 {
        return (StatusCode::BAD_REQUEST, "concurrency must be positive").into_response();
    }
    if let Ok(mut cur) = s.inner.concurrency.write() {
        *cur = l.concurrency;
    }
    // New slots per account on the next call.
    s.inner
        .slots
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn stats(State(s): State<Sandbox>) -> Json<serde_json::Value> {
    Json(json!({
        "requests": s.inner.requests.load(Ordering::Relaxed),
        "throttled": s.inner.throttled.load(Ordering::Relaxed),
    }))
}

pub(super) async fn audit_trail(State(s): State<Sandbox>) -> Response {
    let lines = async {
        let mut c = s.inner.db.acquire().await?;
        store::audit_trail(&mut c, 200).await
    };
    match lines.await {
        Ok(lines) => Json(lines).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct CertificateBody {
    certificate_id: String,
    client_id: String,
    certificate_pem: String,
}

/// Registers an M2M certificate for an account, as an Admin does on NetSuite's M2M setup page.
pub(super) async fn register_certificate(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
    Json(b): Json<CertificateBody>,
) -> Response {
    if let Err(why) = crate::server::erp::netsuite::m2m::certificate_expiry(&b.certificate_pem) {
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    if b.certificate_id.trim().is_empty() || b.client_id.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "certificate_id and client_id are required",
        )
            .into_response();
    }
    let cert = store::Certificate {
        account: account.clone(),
        certificate_id: b.certificate_id,
        client_id: b.client_id,
        certificate_pem: b.certificate_pem,
    };
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        if store::account(&mut c, &account).await?.is_none() {
            return Ok(false);
        }
        store::put_certificate(&mut c, &cert).await.map(|_| true)
    };
    registered(done.await, &account)
}

#[derive(Deserialize)]
pub(super) struct TbaBody {
    consumer_key: String,
    consumer_secret: String,
    token_id: String,
    token_secret: String,
}

/// Registers a TBA token (with its integration's consumer) for an account.
pub(super) async fn register_tba(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
    Json(b): Json<TbaBody>,
) -> Response {
    if [
        &b.consumer_key,
        &b.consumer_secret,
        &b.token_id,
        &b.token_secret,
    ]
    .iter()
    .any(|v| v.trim().is_empty())
    {
        return (StatusCode::BAD_REQUEST, "all four TBA values are required").into_response();
    }
    let token = store::TbaToken {
        token_id: b.token_id,
        account: account.clone(),
        consumer_key: b.consumer_key,
        consumer_secret: b.consumer_secret,
        token_secret: b.token_secret,
    };
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        if store::account(&mut c, &account).await?.is_none() {
            return Ok(false);
        }
        store::put_tba_token(&mut c, &token).await.map(|_| true)
    };
    registered(done.await, &account)
}

/// Revokes the account's bearer tokens: the next call with one gets the generic 401.
pub(super) async fn revoke_tokens(
    State(s): State<Sandbox>,
    Path(account): Path<String>,
) -> Response {
    let done = async {
        let mut c = s.inner.db.acquire().await?;
        store::revoke_access_tokens(&mut c, &account).await
    };
    match done.await {
        Ok(n) => Json(json!({ "revoked": n })).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}

/// 204 when registered, 404 for an unknown account.
fn registered(done: store::DbResult<bool>, account: &str) -> Response {
    match done {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, format!("no account {account}")).into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}
