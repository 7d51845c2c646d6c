//! Sign-in and sign-out: plain form posts, so they work without JavaScript.
//!
//! A browser form gets the Post/Redirect/Get treatment (303 to the next page, or back to
//! `/login?error=…`); a caller asking for JSON gets the status and an error body.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::resolve::SESSION_USER_KEY;
use crate::error::AppError;
use crate::server::http::errors::{internal, json_error};
use crate::server::http::extract::ValidForm;
use crate::server::http::source::Source;
use crate::server::service::sign_in;
use crate::server::state::AppState;

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /auth/login`.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    source: Source,
    headers: HeaderMap,
    ValidForm(form): ValidForm<LoginForm>,
) -> Response {
    let wants_json = accepts_json(&headers);
    let signed_in = sign_in::authenticate(
        &state.db,
        &state.config.sign_in,
        &source.0,
        &form.email,
        form.password,
    )
    .await;
    let user = match signed_in {
        Ok(user) => user,
        Err(err) if wants_json => return json_error(err),
        Err(err) => {
            return Redirect::to(&format!("/login?error={}", error_key(&err))).into_response()
        }
    };
    // A fresh session id at sign-in defeats session fixation.
    let stored = async {
        session.cycle_id().await?;
        session.insert(SESSION_USER_KEY, user.id).await
    };
    if let Err(err) = stored.await {
        return json_error(internal(format!("could not store the session: {err}")));
    }
    tracing::info!(user_id = %user.id, tenant_id = %user.tenant_id, "signed in");
    if wants_json {
        return axum::Json(json!({ "id": user.id, "role": user.role })).into_response();
    }
    Redirect::to(&safe_next(form.next.as_deref())).into_response()
}

/// `POST /auth/logout`: ends the session.
pub async fn logout(session: Session, headers: HeaderMap, _req: Request) -> Response {
    if let Err(err) = session.flush().await {
        return json_error(internal(format!("could not end the session: {err}")));
    }
    if accepts_json(&headers) {
        return axum::http::StatusCode::NO_CONTENT.into_response();
    }
    Redirect::to("/login?signed_out=1").into_response()
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"))
}

/// The query value the login page turns into a message.
fn error_key(err: &AppError) -> &'static str {
    match err {
        AppError::TooManyRequests { .. } => "locked",
        AppError::Unavailable | AppError::Internal { .. } => "unavailable",
        AppError::BadRequest(_) => "missing",
        _ => "invalid",
    }
}

/// Only same-site relative paths are followed after sign-in (no open redirect). `next` is resolved
/// the way a browser would (which drops tabs and newlines, so `/\t/evil.example` becomes
/// `//evil.example`) and kept only when it stays on our origin; control characters and backslashes
/// are refused outright.
fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next.filter(|n| n.starts_with('/')) else {
        return HOME.into();
    };
    if next.chars().any(|c| c.is_control() || c == '\\') {
        return HOME.into();
    }
    let Ok(base) = url::Url::parse("http://erp-bridge.invalid/") else {
        return HOME.into();
    };
    match base.join(next) {
        Ok(resolved) if resolved.origin() == base.origin() => {
            let mut local = resolved.path().to_string();
            if let Some(query) = resolved.query() {
                local.push('?');
                local.push_str(query);
            }
            if local.starts_with("//") {
                HOME.into()
            } else {
                local
            }
        }
        _ => HOME.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_limited_to_local_paths() {
        assert_eq!(safe_next(Some("/integrations")), "/integrations");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/orders?page=2")), "/orders?page=2");
        // Browsers drop tabs and newlines from URLs: these all turn into `//evil.example`.
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/\r\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/%09/evil.example")), "/%09/evil.example");
        assert_eq!(safe_next(Some("/./\u{0}/x")), "/");
        assert_eq!(safe_next(Some("/../..//evil.example")), "/");
    }
}
