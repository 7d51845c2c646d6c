//! `/healthz` (the process is up), `/readyz` (database reachable and migrated), `/metrics`
//! (Prometheus text format).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;

use crate::server::state::AppState;

/// 200 while the process serves requests.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" })))
}

/// 200 when the database answers and every migration is applied, else 503 with the reason.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.is_ready().await {
        Ok(true) => (StatusCode::OK, axum::Json(json!({ "status": "ready" }))),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "not_ready", "reason": "migrations pending" })),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "not_ready", "reason": "database unreachable" })),
            )
        }
    }
}

/// Every metric in Prometheus text exposition format. Outbox backlog and open breakers are
/// read from the database at scrape time, so every process reports the shared truth.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match crate::server::store::outbox::count_by_status(&state.db).await {
        Ok(counts) => {
            for (status, n) in counts {
                metrics::gauge!("outbox_events", "status" => status).set(n as f64);
            }
        }
        Err(err) => tracing::warn!(error = %err, "could not count outbox rows for /metrics"),
    }
    if let Ok(open) =
        crate::server::store::outbox::open_breakers(&state.db, crate::server::time::now()).await
    {
        for provider in ["QuickBooks", "NetSuite"] {
            let n = open
                .iter()
                .find(|(p, _)| p == provider)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!("outbox_breakers_open", "provider" => provider).set(n as f64);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
