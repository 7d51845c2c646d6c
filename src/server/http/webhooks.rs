//! `POST /api/integrations/quickbooks/webhook`: Intuit's change notifications.
//!
//! The signature is checked over the raw bytes before anything else, so junk cannot spend the
//! rate budget of real deliveries; a refused POST (unsigned, badly signed, over its source's rate,
//! unreadable) is only counted (per provider, minute and outcome) and writes no row of its own.
//! A signed POST is rate-limited per source, read event by event (an event we do not understand
//! is skipped and noted in the receipt, the others go on), each notification routed to its tenant
//! by realm id and written to the inbox (deduplicated by event id) in the same transaction as the
//! POST's receipt; the answer is 200 at once — processing happens later, from the inbox. Unknown
//! realms are recorded in the receipt only. Body capped by the router.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::errors::{json_error, store};
use super::source::Source;
use crate::error::AppError;
use crate::server::erp::quickbooks::webhook::{self, Skipped, SIGNATURE_HEADER};
use crate::server::service::webhooks::{self, Refusal, PROVIDER};
use crate::server::state::AppState;
use crate::server::store::webhook_receipts::Receipt;
use crate::server::time;

/// Most characters of skipped-event reasons kept in a receipt.
const MAX_SKIP_NOTE: usize = 2000;

/// The handler.
pub async fn quickbooks(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refuse = |why: Refusal, err: AppError| {
        state.webhook_refusals.count(PROVIDER, why);
        json_error(err)
    };
    let Some(token) = state.config.qbo_webhook_verifier_token.as_ref() else {
        tracing::error!(
            "a QuickBooks webhook arrived but QBO_WEBHOOK_VERIFIER_TOKEN is not configured"
        );
        return refuse(Refusal::NotConfigured, AppError::Unavailable);
    };
    let Some(signature) = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) else {
        return refuse(Refusal::MissingSignature, AppError::Unauthenticated);
    };
    if !webhook::verify_signature(token, &body, signature) {
        return refuse(Refusal::BadSignature, AppError::Unauthenticated);
    }
    if state.webhook_limiter.check_key(&source.0).is_err() {
        tracing::warn!(source = %source.0, "signed QuickBooks webhooks over the per-source rate");
        return refuse(
            Refusal::RateLimited,
            AppError::TooManyRequests {
                retry_after_secs: 1,
            },
        );
    }
    let parsed = match webhook::parse(&body) {
        Ok(parsed) => parsed,
        Err(err) => {
            // Signed, but neither payload format: Intuit's retries cannot fix it, and the count
            // (outcome `malformed`) shows it on the dashboard.
            tracing::error!(error = %err, bytes = body.len(), "could not read a signed QuickBooks webhook");
            return refuse(Refusal::Malformed, AppError::BadRequest(err.to_string()));
        }
    };
    let mut receipt = new_receipt(body.len());
    if !parsed.skipped.is_empty() {
        tracing::warn!(
            skipped = parsed.skipped.len(),
            "skipped unrecognised QuickBooks webhook events"
        );
        receipt.error = Some(skip_note(&parsed.skipped));
    }
    let notifications = parsed.notifications;
    match webhooks::ingest_quickbooks(&state.db, &state.inbox_writer, receipt, &notifications).await
    {
        Ok((new, unroutable)) => {
            metrics::counter!("webhook_requests_total", "provider" => PROVIDER, "outcome" => "accepted").increment(1);
            metrics::counter!("webhook_events_total", "provider" => PROVIDER)
                .increment(notifications.len() as u64);
            let body = json!({
                "received": notifications.len(),
                "new": new,
                "unroutable": unroutable,
                "skipped": parsed.skipped.len(),
            });
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
        signature_ok: true,
        external_company_id: None,
        tenant_id: None,
        routed: false,
        event_count: 0,
        status_code: 200,
        body_bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        error: None,
    }
}

/// "skipped 2 unrecognised events: …", bounded.
fn skip_note(skipped: &[Skipped]) -> String {
    let reasons: Vec<&str> = skipped.iter().map(|s| s.reason.as_str()).collect();
    let note = format!(
        "skipped {} unrecognised event(s): {}",
        skipped.len(),
        reasons.join("; ")
    );
    note.chars().take(MAX_SKIP_NOTE).collect()
}
