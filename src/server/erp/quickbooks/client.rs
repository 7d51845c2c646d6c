//! The QuickBooks Online HTTP client: OAuth (through the `oauth2` crate, with Intuit's extra
//! token fields and its JSON revocation body) and the v3 API — `minorversion=75`, JSON,
//! `requestid` on writes, pacing to Intuit's limits per realm, waits on 429 (Retry-After, else
//! Intuit's 60-second rule), bounded retries of reads on 5xx and timeouts, every `intuit_tid`
//! logged, and faults parsed into retryable, permanent and authentication errors.
//!
//! Writes are never repeated blindly after a timeout or a 5xx: QuickBooks may have applied
//! them. The caller decides (the adapter looks the record up first).

use chrono::{DateTime, TimeDelta, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use rand::Rng;
use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::{Pacing, QboSettings};
use super::fault::{Fault, FaultClass};
use crate::server::erp::{deadline, DeliveryError};
use crate::server::service::tokens::TokenSet;

/// The scope erp-bridge asks for.
pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";
/// Intuit's current minor version (reference § 2).
pub const MINOR_VERSION: &str = "75";

/// Intuit's additions to the standard token response.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IntuitTokenFields {
    /// Seconds the refresh token stays valid.
    #[serde(default)]
    pub x_refresh_token_expires_in: Option<i64>,
}

impl ExtraTokenFields for IntuitTokenFields {}

type IntuitTokenResponse = StandardTokenResponse<IntuitTokenFields, BasicTokenType>;
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    IntuitTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a token call failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenCallError {
    /// Intuit does not know the code or refresh token (expired, reused, superseded, revoked).
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// Any other refusal or failure (network, 5xx, misconfiguration).
    #[error("{0}")]
    Other(String),
}

/// Why an API call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QboError {
    /// QuickBooks answered with a Fault (validation, stale object, duplicate name, …).
    #[error("QuickBooks fault {}: {} (intuit_tid {})", fault.code(), fault.summary(), tid.as_deref().unwrap_or("-"))]
    Fault {
        /// HTTP status.
        status: u16,
        /// The parsed fault.
        fault: Fault,
        /// Intuit's transaction id.
        tid: Option<String>,
    },
    /// 401/403: the token is not (or no longer) good for this company.
    #[error("QuickBooks refused the credentials (HTTP {status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// What QuickBooks said.
        message: String,
    },
    /// Still throttled after the operation's waiting budget.
    #[error("QuickBooks is throttling this company; retry after {retry_after:?}")]
    Throttled {
        /// How long to wait.
        retry_after: Duration,
    },
    /// A 5xx, a timeout or a broken connection: the request may or may not have been applied.
    #[error("QuickBooks did not answer usably: {0}")]
    Unavailable(String),
}

impl QboError {
    /// The fault class, for faults.
    pub fn class(&self) -> Option<FaultClass> {
        match self {
            QboError::Fault { fault, .. } => Some(fault.class()),
            _ => None,
        }
    }

    /// Whether a write that failed this way may nevertheless have been applied.
    pub fn write_outcome_unknown(&self) -> bool {
        matches!(self, QboError::Unavailable(_))
    }
}

impl From<QboError> for DeliveryError {
    fn from(err: QboError) -> Self {
        let message = err.to_string();
        match err {
            QboError::Auth { message, .. } => DeliveryError::Auth { message },
            QboError::Throttled { retry_after } => DeliveryError::Throttled {
                message,
                retry_after: Some(retry_after),
            },
            QboError::Unavailable(_) => DeliveryError::retryable(message),
            QboError::Fault { fault, .. } => match fault.class() {
                FaultClass::Auth => DeliveryError::Auth { message },
                FaultClass::Throttled => DeliveryError::Throttled {
                    message,
                    retry_after: None,
                },
                FaultClass::Retryable | FaultClass::Stale => DeliveryError::retryable(message),
                FaultClass::DuplicateName | FaultClass::Permanent => {
                    DeliveryError::permanent(message)
                }
            },
        }
    }
}

/// A body for a call.
enum Body<'a> {
    None,
    Json(&'a Value),
    Text(&'a str),
}

/// Per-realm pacing state shared by every caller in this process.
struct RealmPace {
    slots: Arc<Semaphore>,
    calls: Mutex<VecDeque<Instant>>,
    batches: Mutex<VecDeque<Instant>>,
    paused_until: Mutex<Option<Instant>>,
}

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct QboClient {
    http: reqwest::Client,
    settings: Arc<QboSettings>,
    realms: Arc<Mutex<HashMap<String, Arc<RealmPace>>>>,
}

impl std::fmt::Debug for QboClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QboClient")
            .field("api_base", &self.settings.endpoints.api_base)
            .finish()
    }
}

/// Transport failure of a token call.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OAuthTransportError(String);

async fn send_oauth(
    http: reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, OAuthTransportError> {
    let req = reqwest::Request::try_from(req).map_err(|e| OAuthTransportError(e.to_string()))?;
    let resp = http
        .execute(req)
        .await
        .map_err(|e| OAuthTransportError(e.to_string()))?;
    let status = resp.status();
    let tid = tid_of(resp.headers());
    tracing::info!(
        status = status.as_u16(),
        intuit_tid = tid.as_deref().unwrap_or("-"),
        "QuickBooks OAuth call"
    );
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| OAuthTransportError(e.to_string()))?;
    let mut out = http::Response::builder().status(status);
    for (k, v) in &headers {
        out = out.header(k, v);
    }
    out.body(body.to_vec())
        .map_err(|e| OAuthTransportError(e.to_string()))
}

fn tid_of(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get("intuit_tid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl QboClient {
    /// A client for `settings`.
    pub fn new(settings: QboSettings) -> anyhow::Result<QboClient> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.request_timeout)
            .user_agent(concat!("erp-bridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(QboClient {
            http,
            settings: Arc::new(settings),
            realms: Arc::default(),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &QboSettings {
        &self.settings
    }

    fn oauth(&self, redirect_uri: &str) -> Result<OAuthClient, TokenCallError> {
        let bad = |e: oauth2::url::ParseError| {
            TokenCallError::Other(format!("QuickBooks OAuth URL: {e}"))
        };
        Ok(
            oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
                .set_client_secret(ClientSecret::new(
                    self.settings.client_secret.expose_secret().to_string(),
                ))
                .set_auth_uri(AuthUrl::new(self.settings.endpoints.authorize.clone()).map_err(bad)?)
                .set_token_uri(TokenUrl::new(self.settings.endpoints.token.clone()).map_err(bad)?)
                .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string()).map_err(bad)?),
        )
    }

    /// Intuit's consent URL carrying `state`.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> Result<String, TokenCallError> {
        let state = state.to_string();
        let (url, _) = self
            .oauth(redirect_uri)?
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new(ACCOUNTING_SCOPE.into()))
            .url();
        Ok(url.to_string())
    }

    fn token_set(
        resp: &IntuitTokenResponse,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, TokenCallError> {
        let refresh = resp
            .refresh_token()
            .ok_or_else(|| TokenCallError::Other("QuickBooks returned no refresh token".into()))?;
        let access_secs = resp.expires_in().map(|d| d.as_secs()).unwrap_or(3600);
        Ok(TokenSet {
            access_token: SecretString::from(resp.access_token().secret().clone()),
            refresh_token: SecretString::from(refresh.secret().clone()),
            access_expires_at: now + TimeDelta::seconds(i64::try_from(access_secs).unwrap_or(3600)),
            refresh_expires_at: resp
                .extra_fields()
                .x_refresh_token_expires_in
                .map(|s| now + TimeDelta::seconds(s)),
        })
    }

    fn classify<E: std::error::Error>(
        err: RequestTokenError<E, BasicErrorResponse>,
    ) -> TokenCallError {
        match err {
            RequestTokenError::ServerResponse(r)
                if *r.error() == BasicErrorResponseType::InvalidGrant =>
            {
                TokenCallError::InvalidGrant(
                    r.error_description()
                        .cloned()
                        .unwrap_or_else(|| "invalid_grant".into()),
                )
            }
            RequestTokenError::ServerResponse(r) => TokenCallError::Other(format!(
                "QuickBooks refused the token request: {}{}",
                r.error(),
                r.error_description()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )),
            RequestTokenError::Request(e) => {
                TokenCallError::Other(format!("token request failed: {e}"))
            }
            RequestTokenError::Parse(e, _) => {
                TokenCallError::Other(format!("unreadable token response: {e}"))
            }
            RequestTokenError::Other(e) => TokenCallError::Other(e),
        }
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        redirect_uri: &str,
        code: &str,
    ) -> Result<TokenSet, TokenCallError> {
        let http = self.http.clone();
        let send = move |req| send_oauth(http.clone(), req);
        let resp = self
            .oauth(redirect_uri)?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .request_async(&send)
            .await
            .map_err(Self::classify)?;
        Self::token_set(&resp, crate::server::time::now())
    }

    /// Obtains a new access token (and possibly a rotated refresh token).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, TokenCallError> {
        let http = self.http.clone();
        let send = move |req| send_oauth(http.clone(), req);
        // The redirect URI plays no part in a refresh; any valid URL satisfies the builder.
        let resp = self
            .oauth("http://localhost/")?
            .exchange_refresh_token(&RefreshToken::new(
                refresh_token.expose_secret().to_string(),
            ))
            .request_async(&send)
            .await
            .map_err(Self::classify)?;
        Self::token_set(&resp, crate::server::time::now())
    }

    /// Revokes the grant (Intuit takes a JSON body, not RFC 7009's form).
    pub async fn revoke(&self, token: &SecretString) -> Result<(), TokenCallError> {
        let resp = self
            .http
            .post(&self.settings.endpoints.revoke)
            .basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            )
            .header(header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "token": token.expose_secret() }))
            .send()
            .await
            .map_err(|e| TokenCallError::Other(format!("revoke request failed: {e}")))?;
        let tid = tid_of(resp.headers());
        tracing::info!(
            status = resp.status().as_u16(),
            intuit_tid = tid.as_deref().unwrap_or("-"),
            "QuickBooks revoke"
        );
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(TokenCallError::Other(format!(
                "QuickBooks answered the revocation with HTTP {}",
                resp.status()
            )))
        }
    }

    fn pace(&self, realm: &str) -> Arc<RealmPace> {
        let p = self.settings.pacing;
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        realms
            .entry(realm.to_string())
            .or_insert_with(|| {
                Arc::new(RealmPace {
                    slots: Arc::new(Semaphore::new(p.concurrency.max(1) as usize)),
                    calls: Mutex::default(),
                    batches: Mutex::default(),
                    paused_until: Mutex::default(),
                })
            })
            .clone()
    }

    /// Waits for a slot under the realm's limits; fails when that would exceed `deadline`.
    async fn admit(
        &self,
        realm: &str,
        batch: bool,
        deadline: Instant,
    ) -> Result<OwnedSemaphorePermit, QboError> {
        let pace = self.pace(realm);
        let Pacing {
            per_window,
            batch_per_window,
            window,
            ..
        } = self.settings.pacing;
        // Every wait here is pacing: it never counts against a delivery's deadline.
        let permit = deadline::paced(pace.slots.clone().acquire_owned())
            .await
            .map_err(|_| QboError::Unavailable("pacing closed".into()))?;
        loop {
            let now = Instant::now();
            let paused = pace.paused_until.lock().map(|p| *p).unwrap_or(None);
            let mut wait = paused.filter(|t| *t > now).map(|t| t - now);
            if wait.is_none() {
                let mut calls = pace.calls.lock().unwrap_or_else(|e| e.into_inner());
                let mut batches = pace.batches.lock().unwrap_or_else(|e| e.into_inner());
                for q in [&mut *calls, &mut *batches] {
                    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                        q.pop_front();
                    }
                }
                if calls.len() >= per_window as usize {
                    wait = calls
                        .front()
                        .map(|t| (*t + window).saturating_duration_since(now));
                } else if batch && batches.len() >= batch_per_window as usize {
                    wait = batches
                        .front()
                        .map(|t| (*t + window).saturating_duration_since(now));
                } else {
                    calls.push_back(now);
                    if batch {
                        batches.push_back(now);
                    }
                    return Ok(permit);
                }
            }
            let wait = wait
                .unwrap_or(Duration::from_millis(1))
                .max(Duration::from_millis(1));
            if now + wait > deadline {
                return Err(QboError::Throttled { retry_after: wait });
            }
            deadline::paced(tokio::time::sleep(wait)).await;
        }
    }

    fn pause(&self, realm: &str, wait: Duration) {
        let pace = self.pace(realm);
        let until = Instant::now() + wait;
        let mut paused = pace.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|cur| cur < until) {
            *paused = Some(until);
        }
    }

    async fn call(
        &self,
        realm: &str,
        token: &SecretString,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
    ) -> Result<Value, QboError> {
        let url = format!(
            "{}/v3/company/{realm}/{path}",
            self.settings.endpoints.api_base
        );
        let is_write = method == Method::POST && !path.ends_with("query");
        let batch = path == "batch";
        let deadline = Instant::now() + self.settings.throttle_budget;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = self.admit(realm, batch, deadline).await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .query(&[("minorversion", MINOR_VERSION)])
                .query(query)
                .bearer_auth(token.expose_secret())
                .header(header::ACCEPT, "application/json");
            req = match body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Text(t) => req
                    .header(header::CONTENT_TYPE, "application/text")
                    .body(t.to_string()),
            };
            let started = Instant::now();
            let sent = req.send().await;
            drop(permit);
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let what = if e.is_timeout() {
                        "timed out"
                    } else {
                        "failed"
                    };
                    tracing::warn!(%realm, path, attempt, error = %e, "QuickBooks request {what}");
                    if !is_write && attempt < self.settings.read_attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(QboError::Unavailable(format!("request {what}: {e}")));
                }
            };
            let status = resp.status();
            let tid = tid_of(resp.headers());
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            tracing::info!(%realm, path, status = status.as_u16(), intuit_tid = tid.as_deref().unwrap_or("-"),
                elapsed_ms = started.elapsed().as_millis() as u64, "QuickBooks API call");
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    return Err(QboError::Unavailable(format!(
                        "reading the answer failed: {e}"
                    )))
                }
            };
            if status == StatusCode::TOO_MANY_REQUESTS {
                // A throttled request was not processed, so even a write may be sent again.
                let wait = retry_after.unwrap_or(self.settings.throttle_wait);
                self.pause(realm, jitter(wait));
                continue; // `admit` waits out the pause, or gives up at the deadline
            }
            if status.is_server_error() {
                let fault = Fault::parse(status.as_u16(), &bytes)
                    .map(|f| f.summary())
                    .unwrap_or_default();
                if !is_write && attempt < self.settings.read_attempts {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                return Err(QboError::Unavailable(format!(
                    "HTTP {} {fault} (intuit_tid {})",
                    status.as_u16(),
                    tid.as_deref().unwrap_or("-")
                )));
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                let message = Fault::parse(status.as_u16(), &bytes)
                    .map(|f| f.summary())
                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
                return Err(QboError::Auth {
                    status: status.as_u16(),
                    message,
                });
            }
            // Intuit can put a Fault in any answer, even a 200 (reference § 2).
            if let Some(fault) = Fault::parse(status.as_u16(), &bytes) {
                return Err(QboError::Fault {
                    status: status.as_u16(),
                    fault,
                    tid,
                });
            }
            if !status.is_success() {
                return Err(QboError::Unavailable(format!(
                    "unexpected HTTP {}",
                    status.as_u16()
                )));
            }
            return serde_json::from_slice(&bytes)
                .map_err(|e| QboError::Unavailable(format!("unreadable answer: {e}")));
        }
    }

    /// Reads one entity (`entity` as Intuit names it, e.g. `Customer`).
    pub async fn read(
        &self,
        realm: &str,
        token: &SecretString,
        entity: &str,
        id: &str,
    ) -> Result<Value, QboError> {
        let path = format!("{}/{}", entity.to_lowercase(), urlencode(id));
        let v = self
            .call(realm, token, Method::GET, &path, &[], Body::None)
            .await?;
        Ok(v.get(entity).cloned().unwrap_or(Value::Null))
    }

    /// Runs a query; returns the `QueryResponse` object.
    pub async fn query(
        &self,
        realm: &str,
        token: &SecretString,
        statement: &str,
    ) -> Result<Value, QboError> {
        let v = self
            .call(
                realm,
                token,
                Method::POST,
                "query",
                &[],
                Body::Text(statement),
            )
            .await?;
        Ok(v.get("QueryResponse").cloned().unwrap_or(Value::Null))
    }

    /// Creates (or, with `Id`/`SyncToken` in the body, updates) an entity; returns it.
    pub async fn write(
        &self,
        realm: &str,
        token: &SecretString,
        entity: &str,
        body: &Value,
        request_id: &str,
    ) -> Result<Value, QboError> {
        self.post_entity(realm, token, entity, body, &[("requestid", request_id)])
            .await
    }

    /// Voids a transaction (`?operation=void`; `body` holds at least Id and SyncToken): it
    /// stays, with its amounts zeroed (reference § 9).
    pub async fn void(
        &self,
        realm: &str,
        token: &SecretString,
        entity: &str,
        body: &Value,
        request_id: &str,
    ) -> Result<Value, QboError> {
        let query = [("operation", "void"), ("requestid", request_id)];
        self.post_entity(realm, token, entity, body, &query).await
    }

    /// `POST …/{entity}` with `query`; returns the entity QuickBooks answers with.
    async fn post_entity(
        &self,
        realm: &str,
        token: &SecretString,
        entity: &str,
        body: &Value,
        query: &[(&str, &str)],
    ) -> Result<Value, QboError> {
        let path = entity.to_lowercase();
        let v = self
            .call(realm, token, Method::POST, &path, query, Body::Json(body))
            .await?;
        Ok(v.get(entity).cloned().unwrap_or(Value::Null))
    }

    /// Sends a batch (at most 30 items); returns `BatchItemResponse`.
    pub async fn batch(
        &self,
        realm: &str,
        token: &SecretString,
        items: &[Value],
        request_id: &str,
    ) -> Result<Vec<Value>, QboError> {
        let body = serde_json::json!({ "BatchItemRequest": items });
        let v = self
            .call(
                realm,
                token,
                Method::POST,
                "batch",
                &[("requestid", request_id)],
                Body::Json(&body),
            )
            .await?;
        Ok(v.get("BatchItemResponse")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Changes since `since` to the named entities; returns `CDCResponse[0].QueryResponse`.
    pub async fn cdc(
        &self,
        realm: &str,
        token: &SecretString,
        entities: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Value>, QboError> {
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let v = self
            .call(
                realm,
                token,
                Method::GET,
                "cdc",
                &[("entities", entities), ("changedSince", &since)],
                Body::None,
            )
            .await?;
        Ok(v.pointer("/CDCResponse/0/QueryResponse")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The company's Preferences document (home currency, closing date, …).
    pub async fn preferences(&self, realm: &str, token: &SecretString) -> Result<Value, QboError> {
        let v = self
            .call(realm, token, Method::GET, "preferences", &[], Body::None)
            .await?;
        Ok(v.get("Preferences").cloned().unwrap_or(Value::Null))
    }

    /// The company's name.
    pub async fn company_name(
        &self,
        realm: &str,
        token: &SecretString,
    ) -> Result<String, QboError> {
        let info = self.read(realm, token, "CompanyInfo", realm).await?;
        Ok(info
            .get("CompanyName")
            .and_then(Value::as_str)
            .unwrap_or(realm)
            .to_string())
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// 250 ms, 500 ms, 1 s, … with ±20 % jitter.
fn backoff(attempt: u32) -> Duration {
    jitter(Duration::from_millis(250u64 << attempt.min(6)))
}

fn jitter(d: Duration) -> Duration {
    let f: f64 = rand::rng().random_range(0.8..1.2);
    d.mul_f64(f)
}

/// Quotes a value for a query (`'` doubled — and `\` kept literal; see the sandbox's parser).
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
