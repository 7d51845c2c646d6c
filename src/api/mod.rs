//! Server functions (`/rpc/…`), one file per screen. Thin: principal → one service call →
//! `AppError` with the right HTTP status. The bodies run only on the server; the browser build
//! gets generated client stubs.

pub mod commerce;
pub mod deliveries;
pub mod integrations;
pub mod reconciliation;
pub mod session;
pub mod tokens;
pub mod users;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    //! What a server function needs from the request: the state, the caller, and a way to
    //! give an error its HTTP status.

    use crate::error::AppError;
    use crate::server::auth::{CurrentPrincipal, Principal};
    use crate::server::http::errors::internal;
    use crate::server::state::AppState;
    use axum::http::request::Parts;
    use axum::http::{header, StatusCode};
    use leptos::prelude::use_context;

    /// The application state.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| internal("AppState missing from the server-function context"))
    }

    /// The caller; `Unauthenticated` when nobody is signed in.
    pub fn principal() -> Result<Principal, AppError> {
        optional_principal()?.ok_or(AppError::Unauthenticated)
    }

    /// The caller, if any.
    pub fn optional_principal() -> Result<Option<Principal>, AppError> {
        let parts = use_context::<Parts>()
            .ok_or_else(|| internal("request parts missing from the context"))?;
        Ok(parts
            .extensions
            .get::<CurrentPrincipal>()
            .and_then(|p| p.0.clone()))
    }

    /// Whether this request is a plain HTML form post (JavaScript off in the browser).
    pub fn is_form_post() -> bool {
        use_context::<Parts>()
            .and_then(|p| {
                p.headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false)
    }

    /// After a plain (no-JavaScript) form post succeeded, sends the browser to `path` (which
    /// carries a `?done=` notice for the page to confirm). A JavaScript call is left alone: the
    /// page shows the action's result itself.
    pub fn confirm_form_post(path: &str) {
        if is_form_post() {
            leptos_axum::redirect(path);
        }
    }

    /// Gives an error result its HTTP status. A plain (no-JavaScript) form post is left alone:
    /// the framework answers it with a redirect that carries the error back to the form.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            if !is_form_post() {
                if let (Some(res), Ok(status)) = (
                    use_context::<leptos_axum::ResponseOptions>(),
                    StatusCode::from_u16(err.status_code()),
                ) {
                    res.set_status(status);
                }
            }
        }
        result
    }
}
