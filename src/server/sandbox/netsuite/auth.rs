//! How the sandbox lets a caller in, as NetSuite does (reference § 1):
//!
//! - **OAuth 2.0 client credentials** (`POST /services/rest/auth/oauth2/v1/token`): the JWT
//!   assertion's `kid` names a registered certificate; `alg` is PS256/384/512 or ES256/384 (the
//!   family of the certificate's key; RS256 is refused); `iss` is the certificate's client id;
//!   `aud` is the token endpoint; `exp` is in the future and at most 60 minutes after `iat`; the
//!   scope includes `rest_webservices`; the signature checks with the certificate's public key.
//!   The answer is a 60-minute bearer token, no refresh token.
//! - **Bearer** on API calls: a token this sandbox issued and that has not expired.
//! - **TBA** on API calls: checked with the same `tba::verify` our client's signer is tested
//!   against, plus the two checks that need state: a known token of the realm's account and a
//!   nonce + timestamp never used before.
//!
//! Every refusal of an API call is the same generic 401; the reason goes to the login audit
//! trail, which the sandbox's page shows (as NetSuite's UI does).

use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::fault::{oauth_error, Fail};
use super::store::{self, AuditLine};
use super::Sandbox;
use crate::server::erp::netsuite::account::AccountId;
use crate::server::erp::netsuite::m2m::{self, ASSERTION_TYPE, SCOPE};
use crate::server::erp::netsuite::tba::{parse_header, verify, TbaCredentials};

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/services/rest/auth/oauth2/v1/token";

/// The longest an assertion may live (`exp` − `iat`).
const MAX_ASSERTION_SECS: i64 = 60 * 60;

/// The token request's form.
#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /services/rest/auth/oauth2/v1/token`.
pub async fn token(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if form.grant_type.as_deref() != Some("client_credentials") {
        s.audit(None, "OAuth 2.0", Err("unsupported grant_type"))
            .await;
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if form.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
        s.audit(
            None,
            "OAuth 2.0",
            Err("client_assertion_type is not jwt-bearer"),
        )
        .await;
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Some(assertion) = form.client_assertion.filter(|a| !a.is_empty()) else {
        s.audit(None, "OAuth 2.0", Err("no client_assertion")).await;
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let here = token_url_of(&headers);
    match check_assertion(&s, &assertion, &here).await {
        Ok(account) => {
            let token = crate::server::crypto::random_secret();
            let ttl = s.inner.config.access_token_ttl;
            let issued = async {
                let mut c = s.inner.db.acquire().await?;
                store::insert_access_token(&mut c, &token, &account, super::now() + ttl).await
            };
            if issued.await.is_err() {
                return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
            }
            s.audit(Some(&account), "OAuth 2.0", Ok(())).await;
            Json(json!({
                "access_token": token,
                "expires_in": ttl.num_seconds(),
                "token_type": "Bearer",
            }))
            .into_response()
        }
        Err((account, why)) => {
            s.audit(account.as_deref(), "OAuth 2.0", Err(&why)).await;
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant")
        }
    }
}

/// The token endpoint's URL as this request reached it.
fn token_url_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{TOKEN_PATH}")
}

/// The claims the sandbox reads (scope and audience may be a string or a list).
#[derive(Deserialize)]
struct Claims {
    iat: Option<i64>,
    exp: i64,
    #[serde(default)]
    scope: Value,
}

/// The account the assertion opens, or (the account if known, why not).
async fn check_assertion(
    s: &Sandbox,
    assertion: &str,
    here: &str,
) -> Result<String, (Option<String>, String)> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|e| (None, format!("the assertion is not a JWT: {e}")))?;
    let rsa = matches!(
        header.alg,
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512
    );
    let ec = matches!(header.alg, Algorithm::ES256 | Algorithm::ES384);
    if !rsa && !ec {
        return Err((None, format!("algorithm {:?} is not accepted", header.alg)));
    }
    let kid = header
        .kid
        .ok_or_else(|| (None, "the assertion has no kid".to_string()))?;
    let cert = async {
        let mut c = s.inner.db.acquire().await?;
        store::certificate(&mut c, &kid).await
    }
    .await
    .map_err(|e| (None, format!("storage: {e}")))?
    .ok_or_else(|| (None, format!("unknown certificate id {kid:?}")))?;
    let account = Some(cert.account.clone());
    let refuse = |why: String| (account.clone(), why);
    let key = if rsa {
        DecodingKey::from_rsa_pem(cert.certificate_pem.as_bytes())
    } else {
        DecodingKey::from_ec_pem(cert.certificate_pem.as_bytes())
    }
    .map_err(|_| {
        refuse(format!(
            "algorithm {:?} does not fit the certificate's key",
            header.alg
        ))
    })?;
    // The endpoint this request reached, or the account's real one.
    let mut audiences = vec![here.to_string()];
    if let Ok(id) = cert.account.parse::<AccountId>() {
        audiences.push(m2m::token_url(&id.default_base_url()));
    }
    let mut v = Validation::new(header.alg);
    v.set_audience(&audiences);
    v.set_issuer(&[cert.client_id.as_str()]);
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let data = jsonwebtoken::decode::<Claims>(assertion, &key, &v)
        .map_err(|e| refuse(format!("the assertion was refused: {e}")))?;
    let claims = data.claims;
    let iat = claims
        .iat
        .ok_or_else(|| refuse("the assertion has no iat".into()))?;
    if claims.exp - iat > MAX_ASSERTION_SECS {
        return Err(refuse("exp is more than 60 minutes after iat".into()));
    }
    let scopes: Vec<&str> = match &claims.scope {
        Value::String(s) => s.split([' ', ',']).collect(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !scopes.contains(&SCOPE) {
        return Err(refuse(format!("scope does not include {SCOPE}")));
    }
    match m2m::certificate_expiry(&cert.certificate_pem) {
        Ok(until) if until > super::now() => Ok(cert.account),
        Ok(_) => Err(refuse("the certificate has expired".into())),
        Err(e) => Err(refuse(e)),
    }
}

/// The account an API call may act on, or the generic 401 (with the reason audited).
pub async fn caller(
    s: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<String, Fail> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(token) = value.strip_prefix("Bearer ") {
        let found = async {
            let mut c = s.inner.db.acquire().await?;
            store::access_token(&mut c, token.trim()).await
        }
        .await?;
        return match found {
            Some((account, until)) if until > super::now() => Ok(account),
            Some((account, _)) => {
                s.audit(
                    Some(&account),
                    "Bearer",
                    Err("the access token has expired"),
                )
                .await;
                Err(Fail::InvalidLogin)
            }
            None => {
                s.audit(None, "Bearer", Err("unknown access token")).await;
                Err(Fail::InvalidLogin)
            }
        };
    }
    if value.starts_with("OAuth ") {
        return tba(s, method, uri, headers, value).await;
    }
    s.audit(None, "-", Err("no Authorization header")).await;
    Err(Fail::InvalidLogin)
}

async fn tba(
    s: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    value: &str,
) -> Result<String, Fail> {
    let signed = match parse_header(value) {
        Ok(signed) => signed,
        Err(refusal) => {
            s.audit(None, "TBA", Err(&refusal.to_string())).await;
            return Err(Fail::InvalidLogin);
        }
    };
    let mut c = s.inner.db.acquire().await?;
    let Some(token) = store::tba_token(&mut c, &signed.token_id).await? else {
        drop(c);
        s.audit(None, "TBA", Err("token_rejected")).await;
        return Err(Fail::InvalidLogin);
    };
    let account = token.account.clone();
    let refuse = |why: String| (Some(account.clone()), why);
    let outcome = if token.consumer_key != signed.consumer_key {
        Err(refuse("consumer_key_unknown".into()))
    } else {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let url = url::Url::parse(&format!("http://{host}{uri}"))
            .map_err(|e| refuse(format!("parameter_rejected: {e}")));
        let creds = TbaCredentials {
            consumer_key: token.consumer_key.clone(),
            consumer_secret: SecretString::from(token.consumer_secret.clone()),
            token_id: token.token_id.clone(),
            token_secret: SecretString::from(token.token_secret.clone()),
        };
        url.and_then(|url| {
            verify(
                method.as_str(),
                &url,
                &account,
                &signed,
                &creds,
                super::now().timestamp(),
            )
            .map_err(|r| refuse(r.to_string()))
        })
    };
    let outcome = match outcome {
        Ok(()) => {
            if store::use_nonce(
                &mut c,
                &account,
                &signed.stamp.nonce,
                &signed.stamp.timestamp,
            )
            .await?
            {
                Ok(())
            } else {
                Err(refuse("nonce_used".into()))
            }
        }
        Err(e) => Err(e),
    };
    drop(c);
    match outcome {
        Ok(()) => Ok(account),
        Err((account, why)) => {
            s.audit(account.as_deref(), "TBA", Err(&why)).await;
            Err(Fail::InvalidLogin)
        }
    }
}

impl Sandbox {
    /// Adds a line to the login audit trail (failures only for API calls, as they are what a
    /// person looks for; token grants both ways).
    pub(super) async fn audit(
        &self,
        account: Option<&str>,
        method: &str,
        outcome: Result<(), &str>,
    ) {
        let line = AuditLine {
            account: account.map(str::to_string),
            at: super::now().to_rfc3339(),
            method: method.to_string(),
            status: if outcome.is_ok() {
                "Success"
            } else {
                "Failure"
            }
            .to_string(),
            detail: outcome.err().unwrap_or("").to_string(),
        };
        if let Ok(mut c) = self.inner.db.acquire().await {
            if let Err(err) = store::audit(&mut c, &line).await {
                tracing::warn!(error = %err, "NetSuite sandbox could not write its audit trail");
            }
        }
    }
}
