//! The whole HTTP application: Leptos pages and server functions, the JSON API, sign-in,
//! health and metrics, with the middleware stack around them. `main` and the integration tests
//! build the app through [`build`], so tests exercise exactly what production serves.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list, AxumRouteListing, LeptosRoutes,
};
use std::sync::OnceLock;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::app::{shell, App};
use crate::server::auth::{csrf, login, resolve, CurrentPrincipal};
use crate::server::http::{api, errors, headers, health, observe, quickbooks, webhooks};
use crate::server::state::AppState;

/// Largest request body accepted anywhere (Intuit sends webhook batches of up to about 1 MB).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The page routes, generated once per process. Generating them renders the app with resource
/// loading switched off through a process-wide flag (leptos_server's `SuppressResourceLoad`):
/// a page of another app in this process whose data starts loading at that instant waits
/// forever (leptos issue #4773). Production builds one app; the tests build hundreds, and a
/// page hung this way once. Every app needs the list before it serves, so once it exists no
/// generation can overlap a page.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Builds the application router.
pub fn build(state: AppState) -> Router {
    let routes = page_routes();
    let page_state = state.clone();
    let fallback_state = state.clone();
    let options = state.leptos_options.clone();
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name("erp_bridge_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(
                state.config.session_idle.num_seconds(),
            ),
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/auth/login", post(login::login))
        .route("/auth/logout", post(login::logout))
        .route("/api/integrations/quickbooks/webhook", post(webhooks::quickbooks))
        .route("/api/integrations/quickbooks/callback", get(quickbooks::callback))
        .merge(api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(page_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            move || provide_context(fallback_state.clone()),
            shell,
        ))
        .layer(middleware::from_fn(require_sign_in_for_pages))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::from_fn_with_state(state.clone(), resolve::resolve_principal))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(observe::record_metrics))
        .layer(middleware::from_fn(headers::secure))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .with_state(state)
}

/// Paths anyone may fetch: sign-in, static assets, health, and the API and server functions
/// (which answer 401 themselves rather than redirecting).
fn is_public(path: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/login", "/auth/", "/pkg/", "/api/", "/rpc/", "/healthz", "/readyz", "/metrics",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        || path == "/favicon.ico"
        || path == "/favicon.svg"
        || path == "/robots.txt"
}

/// Middleware: an anonymous browser asking for a page is sent to sign in, then back.
async fn require_sign_in_for_pages(req: Request, next: Next) -> Response {
    let anonymous = req
        .extensions()
        .get::<CurrentPrincipal>()
        .is_none_or(|p| p.0.is_none());
    let path = req.uri().path();
    if anonymous && req.method() == Method::GET && !is_public(path) {
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next_param}")).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn pages_need_sign_in_but_assets_and_apis_do_not() {
        assert!(!is_public("/"));
        assert!(!is_public("/integrations"));
        assert!(is_public("/login"));
        assert!(is_public("/pkg/erp_bridge.wasm"));
        assert!(is_public("/api/v1/me"));
        assert!(is_public("/rpc/whoami"));
        assert!(is_public("/favicon.svg"));
    }
}
