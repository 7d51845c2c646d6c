//! The OpenID discovery document Intuit's own OAuth clients load (intuit-oauth for Node and
//! Python, the .NET SDK; reference § 9, vector `oauth_discovery_dotnet_sdk.json`), served as
//! `/.well-known/openid_sandbox_configuration` and `/.well-known/openid_configuration`, naming
//! this sandbox's own endpoints (by the Host the client used), so a standard client configured
//! from it talks to the sandbox. It lists what the sandbox implements: no userinfo or JWKS.

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `GET /.well-known/openid_sandbox_configuration` (and the production name).
pub async fn document(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    Json(json!({
        "issuer": format!("{base}/op/v1"),
        "authorization_endpoint": format!("{base}/connect/oauth2"),
        "token_endpoint": format!("{base}/oauth2/v1/tokens/bearer"),
        "revocation_endpoint": format!("{base}/v2/oauth2/tokens/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["com.intuit.quickbooks.accounting"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]
    }))
    .into_response()
}
