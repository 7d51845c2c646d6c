//! What keeps a sandbox's control routes (`/_sandbox/…`: token minting, webhook retargeting,
//! fault injection) and its forms (consent, payments) from being driven by anything but the
//! person and the tests that started it:
//!
//! - **Host**: only a loopback name (`localhost`, `127.x.x.x`, `[::1]`) or an IP literal is
//!   answered, so a DNS-rebinding page (whose requests carry its own host name) gets 421;
//! - **Cross-site**: a state-changing request a browser marks cross-site (`Sec-Fetch-Site`), or
//!   whose `Origin` is not this host, gets 403 — a web page the demo user visits cannot post here;
//! - **Control token**: when the sandbox listens beyond loopback, control routes also need
//!   `X-Sandbox-Token` (printed at start; `SANDBOX_CONTROL_TOKEN` fixes it).
//!
//! The ERP's own API routes (OAuth token endpoint, `/v3/…`, SuiteQL) are guarded by their
//! credentials, as the real services' are, and are not touched here.
//! Redirect URIs: loopback ones are always allowed; others must be registered.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;

/// The header carrying the control token.
pub const CONTROL_TOKEN_HEADER: &str = "x-sandbox-token";

/// How a sandbox guards its control and form routes.
#[derive(Clone, Debug)]
pub struct Guard {
    /// Required on control routes when set (the sandbox listens beyond loopback).
    pub control_token: Option<Arc<SecretString>>,
}

/// Whether `host` (a Host header's host part) names this machine's loopback or is an IP literal.
fn acceptable_host(host_header: &str) -> bool {
    let host = host_without_port(host_header);
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
}

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Whether a browser says this request came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site.eq_ignore_ascii_case("cross-site") {
            return true;
        }
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        // Same origin: the Origin's authority (its port only when not the scheme's default, as
        // browsers write Host) is the Host.
        (Some(origin), Some(host)) => url::Url::parse(origin)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .is_none_or(|authority| !authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn is_control(path: &str) -> bool {
    path.starts_with("/_sandbox/")
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

/// Middleware for the control and form routes.
pub async fn protect(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(acceptable_host);
    if !host_ok {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "This sandbox answers only on localhost or an IP address.",
        );
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && cross_site(headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            "Cross-site requests to the sandbox are refused.",
        );
    }
    if let Some(token) = &guard.control_token {
        if is_control(req.uri().path()) {
            let given = headers
                .get(CONTROL_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = token.expose_secret().as_bytes();
            let matches = given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
            if !matches {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "This sandbox listens beyond loopback: send the control token printed at start in X-Sandbox-Token.",
                );
            }
        }
    }
    next.run(req).await
}

/// Whether a redirect URI may receive authorization codes: any loopback http(s) URI, or one of
/// the registered ones exactly.
pub fn redirect_allowed(uri: &str, registered: &[String]) -> bool {
    if registered.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn only_loopback_names_and_ip_literals_are_answered() {
        for ok in [
            "localhost:3001",
            "127.0.0.1:3001",
            "[::1]:3001",
            "10.0.0.5",
            "app.localhost",
        ] {
            assert!(acceptable_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:3001",
            "127.0.0.1.nip.io:3001",
            "localhost.evil.example",
        ] {
            assert!(!acceptable_host(bad), "{bad}");
        }
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[
            ("host", "127.0.0.1:3001"),
            ("origin", "https://evil.example")
        ])));
        assert!(cross_site(&headers(&[
            ("host", "127.0.0.1:3001"),
            ("origin", "null")
        ])));
        assert!(!cross_site(&headers(&[
            ("host", "127.0.0.1:3001"),
            ("origin", "http://127.0.0.1:3001")
        ])));
        assert!(!cross_site(&headers(&[
            ("host", "localhost"),
            ("origin", "http://localhost")
        ])));
        // Scripts and tests send neither header.
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:3001")])));
    }

    #[test]
    fn loopback_redirects_are_allowed_and_others_must_be_registered() {
        let registered =
            vec!["https://erp.example.com/api/integrations/quickbooks/callback".to_string()];
        assert!(redirect_allowed("http://127.0.0.1:3000/cb", &[]));
        assert!(redirect_allowed("http://localhost:3000/cb", &[]));
        assert!(redirect_allowed("http://[::1]:3000/cb", &[]));
        assert!(redirect_allowed(&registered[0], &registered));
        assert!(!redirect_allowed("https://evil.example/cb", &registered));
        assert!(!redirect_allowed(
            "https://erp.example.com/other",
            &registered
        ));
        assert!(!redirect_allowed("javascript:alert(1)", &[]));
    }
}
