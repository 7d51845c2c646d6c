//! Security headers on every response: a Content-Security-Policy (pages rendered by Leptos get
//! one with the render's nonce, which its hydration scripts carry; everything else a strict
//! default), framing refused, no MIME sniffing, no referrer to other sites.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of responses that are not Leptos pages (JSON, hand-written pages, assets): our own
/// files only, no inline script at all.
pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a Leptos page: scripts only from us or carrying this render's nonce (the
/// hydration loader and the serialized resources), and WebAssembly compilation for the hydrate
/// bundle; nothing may frame it or post it elsewhere.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Middleware: adds the headers, keeping a page's own Content-Security-Policy.
pub async fn secure(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}
