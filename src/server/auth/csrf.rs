//! Cross-site request forgery guard: an origin check (DESIGN § 13), the same rule as Go's
//! `http.CrossOriginProtection`.
//!
//! A state-changing request (anything but GET, HEAD, OPTIONS) passes when `Sec-Fetch-Site` is
//! `same-origin` or `none`, or — for browsers that do not send it — when `Origin` equals our
//! public origin. Requests carrying neither header are not from a browser (curl, scripts with
//! bearer tokens) and cannot ride a victim's cookies, so they pass. Webhooks and the OAuth
//! callback are exempt: they are authenticated by signature and `state`.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::server::state::AppState;

/// Paths authenticated by other means (signatures, OAuth `state`).
const EXEMPT_PREFIXES: &[&str] = &[
    "/api/integrations/quickbooks/webhook",
    "/api/integrations/quickbooks/callback",
];

/// Middleware: refuses cross-site state-changing requests with 403.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_allowed(&req, &state.config.public_origin) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site state-changing request");
        crate::server::http::errors::error_response(&req, AppError::Forbidden).into_response()
    }
}

/// The decision, separate from the middleware so it can be tested directly.
pub fn is_allowed(req: &Request, public_origin: &str) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let path = req.uri().path();
    if EXEMPT_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return true;
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin.eq_ignore_ascii_case(public_origin),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method("POST").uri("/auth/logout");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).expect("request")
    }

    const ORIGIN: &str = "http://127.0.0.1:3000";

    #[test]
    fn same_origin_and_user_initiated_requests_pass() {
        assert!(is_allowed(
            &post(&[("sec-fetch-site", "same-origin")]),
            ORIGIN
        ));
        assert!(is_allowed(&post(&[("sec-fetch-site", "none")]), ORIGIN));
        assert!(is_allowed(&post(&[("origin", ORIGIN)]), ORIGIN));
        assert!(
            is_allowed(&post(&[]), ORIGIN),
            "non-browser clients send neither header"
        );
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(!is_allowed(
            &post(&[("sec-fetch-site", "cross-site")]),
            ORIGIN
        ));
        assert!(!is_allowed(
            &post(&[("sec-fetch-site", "same-site")]),
            ORIGIN
        ));
        assert!(!is_allowed(
            &post(&[("origin", "https://evil.example")]),
            ORIGIN
        ));
        assert!(
            !is_allowed(
                &post(&[("sec-fetch-site", "cross-site"), ("origin", ORIGIN)]),
                ORIGIN
            ),
            "Sec-Fetch-Site wins over a forged-looking Origin"
        );
    }

    #[test]
    fn reads_and_webhooks_are_not_checked() {
        let get = Request::builder()
            .uri("/")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .expect("request");
        assert!(is_allowed(&get, ORIGIN));
        let hook = Request::builder()
            .method("POST")
            .uri("/api/integrations/quickbooks/webhook")
            .header("origin", "https://intuit.example")
            .body(Body::empty())
            .expect("request");
        assert!(is_allowed(&hook, ORIGIN));
    }
}
