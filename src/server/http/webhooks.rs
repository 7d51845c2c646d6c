//! `POST /api/integrations/quickbooks/webhook`: Intuit's change notifications.
//!
//! The signature is checked over the raw bytes before anything is parsed; each notification is
//! routed to its tenant by realm id and written to the inbox (deduplicated by event id) in the
//! same transaction as the POST's receipt; the answer is 200 at once — processing happens later,
//! from the inbox. Unknown realms are recorded in the receipt only. Rate-limited; body capped by
//! the router.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::errors::{json_error, store};
use crate::error::AppError;
use crate::server::erp::quickbooks::webhook::{self, SIGNATURE_HEADER};
use crate::server::service::webhooks::{self, PROVIDER};
use crate::server::state::AppState;
use crate::server::store::webhook_receipts::Receipt;
use crate::server::store::Db;
use crate::server::time;

/// The handler.
pub async fn quickbooks(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if state.webhook_limiter.check().is_err() {
        metrics::counter!("webhook_requests_total", "provider" => PROVIDER, "outcome" => "rate_limited").increment(1);
        return json_error(AppError::TooManyRequests {
            retry_after_secs: 1,
        });
    }
    let Some(token) = state.config.qbo_webhook_verifier_token.as_ref() else {
        tracing::error!(
            "a QuickBooks webhook arrived but QBO_WEBHOOK_VERIFIER_TOKEN is not configured"
        );
        return json_error(AppError::Unavailable);
    };
    let mut receipt = new_receipt(body.len());
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !signature.is_some_and(|sig| webhook::verify_signature(token, &body, sig)) {
        let why = if signature.is_none() {
            "missing intuit-signature"
        } else {
            "signature mismatch"
        };
        tracing::warn!(
            reason = why,
            bytes = body.len(),
            "refused a QuickBooks webhook"
        );
        return finish(&state.db, receipt, AppError::Unauthenticated, why).await;
    }
    receipt.signature_ok = true;
    let notifications = match webhook::parse(&body) {
        Ok(n) => n,
        Err(err) => {
            // A signed body we cannot read: 400 makes Intuit retry it, so nothing is lost while
            // we fix the parser.
            tracing::error!(error = %err, "could not parse a signed QuickBooks webhook");
            let message = err.to_string();
            return finish(
                &state.db,
                receipt,
                AppError::BadRequest(message.clone()),
                &message,
            )
            .await;
        }
    };
    match webhooks::ingest_quickbooks(&state.db, &state.inbox_writer, receipt, &notifications).await
    {
        Ok((new, unroutable)) => {
            metrics::counter!("webhook_requests_total", "provider" => PROVIDER, "outcome" => "accepted").increment(1);
            metrics::counter!("webhook_events_total", "provider" => PROVIDER)
                .increment(notifications.len() as u64);
            let body =
                json!({ "received": notifications.len(), "new": new, "unroutable": unroutable });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(err) => json_error(store(err)),
    }
}

fn new_receipt(bytes: usize) -> Receipt {
    Receipt {
        id: Uuid::now_v7(),
        provider: PROVIDER.into(),
        received_at: time::now(),
        signature_ok: false,
        external_company_id: None,
        tenant_id: None,
        routed: false,
        event_count: 0,
        status_code: 200,
        body_bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        error: None,
    }
}

/// Records a refused POST's receipt and answers with `err`.
async fn finish(db: &Db, mut receipt: Receipt, err: AppError, why: &str) -> Response {
    receipt.status_code = i64::from(err.status_code());
    receipt.error = Some(why.to_string());
    metrics::counter!("webhook_requests_total", "provider" => PROVIDER, "outcome" => "refused")
        .increment(1);
    if let Err(e) = webhooks::record_refusal(db, &receipt).await {
        tracing::error!(error = %e, "could not record a webhook receipt");
    }
    json_error(err)
}
