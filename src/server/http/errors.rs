//! Turning an [`AppError`] into an HTTP response, and the helpers that log a failure once and
//! hand the client only a reference id.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::error::AppError;

pub use crate::server::service::errors::{internal, new_reference, store};

/// The response for `err`: JSON for API callers and scripts, a small HTML page for browsers.
pub fn error_response(req: &Request, err: AppError) -> Response {
    respond(req.uri().path(), req.headers(), err)
}

/// Like [`error_response`], from the path and headers.
pub fn respond(path: &str, headers: &HeaderMap, err: AppError) -> Response {
    if wants_html(path, headers) {
        html_error(err)
    } else {
        json_error(err)
    }
}

/// Whether the caller is a browser navigating (not the JSON API, not a server-function fetch).
pub fn wants_html(path: &str, headers: &HeaderMap) -> bool {
    if path.starts_with("/api/") {
        return false;
    }
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// `{"error": {"code", "message"}}` with the error's status (and `Retry-After` for 429).
pub fn json_error(err: AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = json!({ "error": { "code": err.code(), "message": err.to_string() } });
    if let AppError::Internal { reference } = &err {
        body["error"]["reference"] = json!(reference);
    }
    let mut res = (status, axum::Json(body)).into_response();
    add_retry_after(&mut res, &err);
    res
}

/// A minimal standalone HTML error page (used outside the Leptos app: middleware, panics).
pub fn html_error(err: AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = status.canonical_reason().unwrap_or("Error");
    let message = html_escape(&err.to_string());
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · erp-bridge</title>\
         <link rel=\"stylesheet\" href=\"/pkg/erp_bridge.css\"></head><body><main class=\"error-page\">\
         <h1>{code} {title}</h1><p>{message}</p><p><a href=\"/\">Back to the start page</a></p>\
         </main></body></html>",
        code = status.as_u16()
    );
    let mut res = (status, Html(page)).into_response();
    add_retry_after(&mut res, &err);
    res
}

fn add_retry_after(res: &mut Response, err: &AppError) {
    if let AppError::TooManyRequests { retry_after_secs } = err {
        if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        json_error(self)
    }
}

/// The panic handler for `CatchPanicLayer`: a 500 with a reference id, no internals.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)");
    json_error(internal(format!("handler panicked: {detail}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(res: Response) -> String {
        String::from_utf8(
            to_bytes(res.into_body(), 64 * 1024)
                .await
                .expect("body")
                .to_vec(),
        )
        .expect("utf-8")
    }

    #[tokio::test]
    async fn a_panic_becomes_a_500_with_a_reference_and_no_internals() {
        let res = panic_response(Box::new("index out of bounds: secret detail".to_string()));
        assert_eq!(res.status(), 500);
        let body: serde_json::Value = serde_json::from_str(&body_of(res).await).expect("json");
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["reference"].as_str().map(str::len), Some(12));
        assert!(!body.to_string().contains("secret detail"));
    }

    #[tokio::test]
    async fn browsers_get_html_and_api_callers_get_json() {
        let mut html = HeaderMap::new();
        html.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml"),
        );
        let page = respond("/integrations", &html, AppError::Forbidden);
        assert_eq!(page.status(), 403);
        assert!(body_of(page).await.contains("<h1>403 Forbidden</h1>"));
        let api = respond(
            "/api/v1/me",
            &html,
            AppError::TooManyRequests {
                retry_after_secs: 7,
            },
        );
        assert_eq!(api.status(), 429);
        assert_eq!(api.headers()[header::RETRY_AFTER], "7");
        assert!(body_of(api).await.contains("\"too_many_requests\""));
    }
}
