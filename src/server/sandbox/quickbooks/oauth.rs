//! Intuit's OAuth 2.0 server, as the reference describes it (§ 1): a consent page where the
//! user picks a company or denies, single-use authorization codes, a token endpoint with Basic
//! client authentication and a form body, refresh-token rotation with a 24-hour grace for the
//! previous token, `invalid_grant` for anything unknown, expired or reused, and revocation.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use super::fault::Fail;
use super::page::escape;
use super::{clock, store, Sandbox};
use crate::server::sandbox::guard::redirect_allowed;

/// The accounting scope.
pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";
/// How long an authorization code stays usable.
const CODE_TTL: TimeDelta = TimeDelta::minutes(5);
/// How long a superseded refresh token keeps working (reference § 1).
const ROTATION_GRACE: TimeDelta = TimeDelta::hours(24);
/// A refresh token's lifetime (`x_refresh_token_expires_in`, about 101 days).
const REFRESH_TTL_SECS: i64 = 8_726_400;
/// The absolute cap announced since 2025-11 (five years).
const HARD_TTL_SECS: i64 = 5 * 365 * 24 * 3600;

fn random_token() -> String {
    crate::server::crypto::random_secret()
}

/// The authorize request.
#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>QuickBooks sandbox</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto\"><h1>Cannot connect</h1><p>{}</p></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect_uri is not a URL.");
    };
    url.query_pairs_mut().extend_pairs(params.iter());
    Redirect::to(url.as_str()).into_response()
}

/// `GET /connect/oauth2`: the consent screen.
pub async fn authorize(State(s): State<Sandbox>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.client_id.as_deref() != Some(s.inner.config.client_id.as_str()) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client_id: this app is not registered with the sandbox.",
        );
    }
    let Some(redirect_uri) = q.redirect_uri.filter(|r| url::Url::parse(r).is_ok()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is missing or not a URL.",
        );
    };
    if !redirect_allowed(&redirect_uri, &s.inner.config.redirect_uris) {
        // Intuit shows an error page, never redirecting to an unregistered URI.
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri query parameter value is invalid: it is not registered for this app (loopback addresses always are).",
        );
    }
    let state = q.state.unwrap_or_default();
    if q.response_type.as_deref() != Some("code") {
        return redirect_with(
            &redirect_uri,
            &[("error", "unsupported_response_type"), ("state", &state)],
        );
    }
    let scope = q.scope.unwrap_or_default();
    if !scope.split_whitespace().any(|s| s == ACCOUNTING_SCOPE) {
        return redirect_with(
            &redirect_uri,
            &[("error", "invalid_scope"), ("state", &state)],
        );
    }
    let companies = match s.inner.db.acquire().await {
        Ok(mut c) => store::companies(&mut c).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut options = String::new();
    for (i, co) in companies.iter().enumerate() {
        options.push_str(&format!(
            "<label style=\"display:block;margin:.5rem 0\"><input type=\"radio\" name=\"realm\" value=\"{realm}\"{checked}> \
             {name} <small>(realm {realm})</small></label>",
            realm = escape(&co.realm),
            name = escape(&co.name),
            checked = if i == 0 { " checked" } else { "" },
        ));
    }
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Connect to QuickBooks (sandbox)</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto\">\
         <h1>Connect to QuickBooks</h1><p>An app wants to read and write your accounting data. Choose the company to connect.</p>\
         <p><small>This is the erp-bridge QuickBooks sandbox, not Intuit.</small></p>\
         <form method=\"post\" action=\"/connect/oauth2\">{companies}{h1}{h2}{h3}{h4}\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Connect</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form></body></html>",
        companies = options,
        h1 = hidden("client_id", &s.inner.config.client_id),
        h2 = hidden("redirect_uri", &redirect_uri),
        h3 = hidden("state", &state),
        h4 = hidden("scope", &scope),
    );
    Html(body).into_response()
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    client_id: String,
    redirect_uri: String,
    state: String,
    realm: Option<String>,
    decision: String,
}

/// `POST /connect/oauth2`: the user's decision, answered by redirecting to the app.
pub async fn consent(State(s): State<Sandbox>, Form(f): Form<ConsentForm>) -> Response {
    if f.client_id != s.inner.config.client_id {
        return error_page(StatusCode::BAD_REQUEST, "Unknown client_id.");
    }
    if !redirect_allowed(&f.redirect_uri, &s.inner.config.redirect_uris) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is not registered for this app.",
        );
    }
    if f.decision != "allow" {
        // [UNCONFIRMED for Intuit] the standard RFC 6749 denial.
        return redirect_with(
            &f.redirect_uri,
            &[("error", "access_denied"), ("state", &f.state)],
        );
    }
    let Some(realm) = f.realm.filter(|r| !r.is_empty()) else {
        return error_page(StatusCode::BAD_REQUEST, "Choose a company to connect.");
    };
    let code = random_token();
    let result: Result<bool, sqlx::Error> = async {
        let mut c = s.inner.db.acquire().await?;
        if store::company(&mut c, &realm).await?.is_none() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO auth_codes (code, realm, client_id, redirect_uri, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&code)
            .bind(&realm)
            .bind(&f.client_id)
            .bind(&f.redirect_uri)
            .bind(clock::now() + CODE_TTL)
            .execute(&mut *c)
            .await?;
        Ok(true)
    }
    .await;
    match result {
        Ok(true) => redirect_with(
            &f.redirect_uri,
            &[("code", &code), ("state", &f.state), ("realmId", &realm)],
        ),
        Ok(false) => error_page(StatusCode::BAD_REQUEST, "No such company."),
        Err(_) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The sandbox could not store the grant.",
        ),
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error_description": description, "error": error })),
    )
        .into_response()
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Basic client authentication (the id and secret are form-urlencoded before base64, as RFC
/// 6749 § 2.3.1 says).
fn client_ok(s: &Sandbox, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Some(pair) = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return false;
    };
    let Some((id, secret)) = pair.split_once(':') else {
        return false;
    };
    form_decode(id) == s.inner.config.client_id
        && form_decode(secret) == s.inner.config.client_secret.expose_secret()
}

/// A stored refresh token: (realm, issued, expires, superseded, revoked).
type RefreshRow = (
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    bool,
);

/// The token request.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

async fn issue(
    s: &Sandbox,
    c: &mut sqlx::SqliteConnection,
    realm: &str,
    refresh: &str,
    hard: bool,
) -> Result<Response, sqlx::Error> {
    let access = random_token();
    sqlx::query("INSERT INTO access_tokens (token, realm, refresh_token, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&access)
        .bind(realm)
        .bind(refresh)
        .bind(clock::now() + s.inner.config.access_token_ttl)
        .execute(&mut *c)
        .await?;
    let mut body = json!({
        "access_token": access, "refresh_token": refresh, "token_type": "bearer",
        "expires_in": s.inner.config.access_token_ttl.num_seconds(),
        "x_refresh_token_expires_in": REFRESH_TTL_SECS,
    });
    if hard {
        body["x_refresh_token_hard_expires_in"] = json!(HARD_TTL_SECS);
    }
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-cache, no-store")],
        Json(body),
    )
        .into_response())
}

async fn new_refresh_token(
    c: &mut sqlx::SqliteConnection,
    realm: &str,
    client_id: &str,
) -> Result<String, sqlx::Error> {
    let refresh = random_token();
    let now = clock::now();
    sqlx::query("INSERT INTO refresh_tokens (token, realm, client_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&refresh)
        .bind(realm)
        .bind(client_id)
        .bind(now)
        .bind(now + TimeDelta::seconds(REFRESH_TTL_SECS))
        .execute(c)
        .await?;
    Ok(refresh)
}

/// `POST /oauth2/v1/tokens/bearer`.
pub async fn token_endpoint(
    s: &Sandbox,
    headers: &HeaderMap,
    f: TokenForm,
) -> Result<Response, sqlx::Error> {
    if !client_ok(s, headers) {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        ));
    }
    let hard = headers
        .get("x-include-refresh-token-hard-expires-in")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let client_id = s.inner.config.client_id.clone();
    let mut tx = s.inner.db.begin().await?;
    let now = clock::now();
    let resp = match f.grant_type.as_str() {
        "authorization_code" => {
            let code = f.code.unwrap_or_default();
            let row: Option<(String, String, DateTime<Utc>, bool)> = sqlx::query_as(
                "SELECT realm, redirect_uri, expires_at, used FROM auth_codes WHERE code = $1",
            )
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some((realm, redirect, exp, false))
                    if exp > now && Some(&redirect) == f.redirect_uri.as_ref() =>
                {
                    sqlx::query("UPDATE auth_codes SET used = 1 WHERE code = $1")
                        .bind(&code)
                        .execute(&mut *tx)
                        .await?;
                    let refresh = new_refresh_token(&mut tx, &realm, &client_id).await?;
                    store::bump(&mut tx, "token_exchanges", 1).await?;
                    issue(s, &mut tx, &realm, &refresh, hard).await?
                }
                Some((_, _, _, true)) => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code was already used",
                ),
                Some((_, redirect, _, _)) if Some(&redirect) != f.redirect_uri.as_ref() => {
                    oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "redirect_uri does not match the authorization request",
                    )
                }
                Some(_) => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code expired",
                ),
                None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid"),
            }
        }
        "refresh_token" => {
            let old = f.refresh_token.unwrap_or_default();
            let row: Option<RefreshRow> = sqlx::query_as(
                "SELECT realm, issued_at, expires_at, superseded_at, revoked FROM refresh_tokens WHERE token = $1",
            )
            .bind(&old)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some((realm, issued, exp, superseded, false))
                    if exp > now && superseded.is_none_or(|t| t + ROTATION_GRACE > now) =>
                {
                    store::bump(&mut tx, "refreshes", 1).await?;
                    let keep =
                        superseded.is_none() && now - issued < s.inner.config.rotate_refresh_after;
                    let refresh = if keep {
                        old.clone()
                    } else {
                        sqlx::query("UPDATE refresh_tokens SET superseded_at = COALESCE(superseded_at, $2) WHERE token = $1")
                            .bind(&old)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        new_refresh_token(&mut tx, &realm, &client_id).await?
                    };
                    issue(s, &mut tx, &realm, &refresh, hard).await?
                }
                Some(_) => {
                    store::bump(&mut tx, "invalid_grants", 1).await?;
                    oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Incorrect or invalid refresh token",
                    )
                }
                None => {
                    store::bump(&mut tx, "invalid_grants", 1).await?;
                    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token invalid")
                }
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    };
    tx.commit().await?;
    Ok(resp)
}

/// Axum entry of the token endpoint.
pub async fn token(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    let answer = token_endpoint(&s, &headers, f).await.unwrap_or_else(|_| {
        oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The sandbox could not store the token",
        )
    });
    let delay = s.faults().token_latency_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    answer
}

/// The revoke request body.
#[derive(Debug, Deserialize)]
pub struct RevokeBody {
    token: String,
}

/// `POST /v2/oauth2/tokens/revoke` with `{"token": …}` (access or refresh token).
pub async fn revoke(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(b): Json<RevokeBody>,
) -> Response {
    if !client_ok(&s, &headers) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let result: Result<(), sqlx::Error> = async {
        let mut tx = s.inner.db.begin().await?;
        let realm: Option<String> = sqlx::query_scalar(
            "SELECT realm FROM refresh_tokens WHERE token = $1 UNION SELECT realm FROM access_tokens WHERE token = $1",
        )
        .bind(&b.token)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(realm) = realm {
            // Revoking either token ends the whole grant.
            revoke_all(&mut tx, &realm).await?;
            store::bump(&mut tx, "revocations", 1).await?;
        }
        tx.commit().await
    }
    .await;
    match result {
        Ok(()) => (StatusCode::OK, Json(json!({ "statuscode": "200" }))).into_response(),
        Err(_) => oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "revocation failed",
        ),
    }
}

async fn revoke_all(c: &mut sqlx::SqliteConnection, realm: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE realm = $1")
        .bind(realm)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE access_tokens SET revoked = 1 WHERE realm = $1")
        .bind(realm)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// `POST /_sandbox/realms/{realm}/revoke`: fault injection — the company revokes the app.
pub async fn revoke_realm(State(s): State<Sandbox>, Path(realm): Path<String>) -> Response {
    let result: Result<(), sqlx::Error> = async {
        let mut c = s.inner.db.acquire().await?;
        revoke_all(&mut c, &realm).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => Fail::System.into_response(),
    }
}

/// `POST /_sandbox/realms/{realm}/token`: an access token for tools and tests that inspect a
/// company through the API (counting invoices, recording payments) without a consent flow.
pub async fn mint_token(State(s): State<Sandbox>, Path(realm): Path<String>) -> Response {
    match super::known_realm(&s, &realm).await {
        Ok(true) => {}
        Ok(false) => return (StatusCode::NOT_FOUND, "no such company").into_response(),
        Err(f) => return f.into_response(),
    }
    let access = random_token();
    let result = async {
        let mut c = s.inner.db.acquire().await?;
        sqlx::query("INSERT INTO access_tokens (token, realm, expires_at) VALUES ($1, $2, $3)")
            .bind(&access)
            .bind(&realm)
            .bind(clock::now() + TimeDelta::hours(1))
            .execute(&mut *c)
            .await
    }
    .await;
    match result {
        Ok(_) => Json(json!({ "access_token": access, "realm": realm, "expires_in": 3600 }))
            .into_response(),
        Err(_) => Fail::System.into_response(),
    }
}
