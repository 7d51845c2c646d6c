//! The SuiteTalk REST client: one account's calls, authenticated by machine-to-machine bearer
//! tokens (fetched with a signed assertion, kept until five minutes before they expire) or by
//! token-based authentication (each request signed), held under the account's concurrency
//! limit, with NetSuite's answers read as NetSuite writes them (reference § 3–5):
//!
//! - a create is 204 with the new record's URL in `Location`;
//! - every refusal is a problem document (`o:errorDetails[].o:errorCode`, `o:errorPath`);
//! - a 429 (`CONCURRENCY_LIMIT_EXCEEDED`) was not processed, so even a write may be sent again
//!   after a growing, jittered wait — which is pacing, not the ERP failing ([`deadline`]);
//! - a 401 is generic: the message lists what to check, since NetSuite says no more.
//!
//! Writes are never repeated after a 5xx or a timeout: NetSuite may have applied them. The
//! connector makes them safe to repeat instead (`eid:` upserts with `?replace=item`).

use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use super::account::AccountId;
use super::m2m::{self, M2mCredentials};
use super::tba::{self, Stamp, TbaCredentials};
use crate::server::erp::deadline;

/// How an account lets us in.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// OAuth 2.0 client credentials (machine to machine).
    M2m(M2mCredentials),
    /// Token-based authentication.
    Tba(TbaCredentials),
}

/// One NetSuite account as the client calls it.
#[derive(Clone, Debug)]
pub struct Account {
    /// The account id (`1234567_SB1`).
    pub id: AccountId,
    /// `https://1234567-sb1.suitetalk.api.netsuite.com`, or an erp-bridge sandbox.
    pub base_url: String,
    /// How we authenticate.
    pub credentials: Credentials,
}

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Requests in flight per account: one under NetSuite's most common limit (5), leaving a
    /// slot for the account's other integrations.
    pub concurrency: u32,
    /// Tries of a request NetSuite refused with 429.
    pub throttle_attempts: u32,
    /// The first wait after a 429 (doubled per try, jittered).
    pub throttle_wait: Duration,
    /// One call's time limit.
    pub request_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 4,
            throttle_attempts: 6,
            throttle_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NsError {
    /// NetSuite refused our credentials (always the generic `INVALID_LOGIN`).
    #[error("NetSuite refused the credentials (INVALID_LOGIN). Check that the integration record is enabled for the REST web services and for token-based or machine-to-machine authentication, that the role has the \"REST Web Services\" and \"Log in using Access Tokens\" (or OAuth 2.0) permissions, that the account id is written as NetSuite shows it (1234567_SB1) and that the token or certificate is not revoked or expired; NetSuite's Login Audit Trail has the exact reason{0}")]
    Auth(String),
    /// Still refused with 429 after every try.
    #[error("NetSuite's concurrency limit was still reached after {attempts} tries")]
    Throttled {
        /// Tries made.
        attempts: u32,
    },
    /// NetSuite refused the request's content.
    #[error("NetSuite refused it: {detail} ({code}{})", path.as_ref().map(|p| format!(", at {p}")).unwrap_or_default())]
    Refused {
        /// HTTP status.
        status: u16,
        /// `o:errorCode`.
        code: String,
        /// `detail`.
        detail: String,
        /// `o:errorPath`, when NetSuite names the field.
        path: Option<String>,
    },
    /// No such record (404 `NONEXISTENT_ID`).
    #[error("NetSuite has no such record")]
    NotFound,
    /// A 5xx, a timeout or a broken connection: a write may or may not have been applied.
    #[error("NetSuite did not answer usably: {0}")]
    Unavailable(String),
}

/// A SuiteQL page.
#[derive(Clone, Debug)]
pub struct Page {
    /// The rows, each column → string value (NULL columns absent).
    pub items: Vec<HashMap<String, String>>,
    /// Whether more pages follow.
    pub has_more: bool,
    /// Rows the query matched.
    pub total: u64,
}

/// The client, shared by every tenant of this process.
#[derive(Clone)]
pub struct NetSuiteClient {
    http: reqwest::Client,
    settings: Settings,
    tokens: Arc<Mutex<HashMap<String, (SecretString, Instant)>>>,
    slots: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl NetSuiteClient {
    /// A client with `settings`.
    pub fn new(settings: Settings) -> Result<Self, NsError> {
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| NsError::Unavailable(e.to_string()))?;
        Ok(NetSuiteClient {
            http,
            settings,
            tokens: Arc::default(),
            slots: Arc::default(),
        })
    }

    /// Requests this client keeps in flight per account.
    pub fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1) as usize
    }

    /// Runs a SuiteQL query (`limit` ≤ 1000, `offset` a multiple of it).
    pub async fn suiteql(
        &self,
        acct: &Account,
        q: &str,
        params: &[&str],
        limit: u32,
        offset: u64,
    ) -> Result<Page, NsError> {
        let body = serde_json::json!({ "q": q, "params": params });
        let path = format!("/services/rest/query/v1/suiteql?limit={limit}&offset={offset}");
        let (_, _, answer) = self.call(acct, Method::POST, &path, Some(&body)).await?;
        let items = answer
            .get("items")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        row.as_object()
                            .map(|o| {
                                o.iter()
                                    .filter_map(|(k, v)| {
                                        v.as_str().map(|s| (k.clone(), s.to_string()))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            items,
            has_more: answer
                .get("hasMore")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            total: answer
                .get("totalResults")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        })
    }

    /// Creates or updates the record of `kind` whose external id is `external_id`; `replace`
    /// names sublists to replace rather than merge (always `item` for a sales order, so a
    /// repeated upsert never adds lines). Returns the record's internal id.
    pub async fn upsert(
        &self,
        acct: &Account,
        kind: &str,
        external_id: &str,
        body: &Value,
        replace: Option<&str>,
    ) -> Result<String, NsError> {
        let mut path = format!("/services/rest/record/v1/{kind}/eid:{external_id}");
        if let Some(r) = replace {
            path.push_str(&format!("?replace={r}"));
        }
        let (_, headers, _) = self.call(acct, Method::PUT, &path, Some(body)).await?;
        match location_id(&headers) {
            Some(id) => Ok(id),
            // Upsert's answer is UNCONFIRMED: without a Location, read the record back.
            None => {
                let path = format!("/services/rest/record/v1/{kind}/eid:{external_id}?fields=id");
                let (_, _, rec) = self.call(acct, Method::GET, &path, None).await?;
                rec.get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| NsError::Unavailable("the upserted record has no id".into()))
            }
        }
    }

    /// Changes the fields of `body` on a record (`key` an internal id or `eid:…`).
    pub async fn patch(
        &self,
        acct: &Account,
        kind: &str,
        key: &str,
        body: &Value,
    ) -> Result<(), NsError> {
        let path = format!("/services/rest/record/v1/{kind}/{key}");
        self.call(acct, Method::PATCH, &path, Some(body)).await?;
        Ok(())
    }

    /// Reads a record (`key` an internal id or `eid:…`).
    pub async fn get(&self, acct: &Account, kind: &str, key: &str) -> Result<Value, NsError> {
        let path = format!("/services/rest/record/v1/{kind}/{key}");
        Ok(self.call(acct, Method::GET, &path, None).await?.2)
    }

    /// One call: authenticated, under the account's concurrency limit, 429s waited out.
    async fn call(
        &self,
        acct: &Account,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, header::HeaderMap, Value), NsError> {
        let url = format!("{}{path_and_query}", acct.base_url.trim_end_matches('/'));
        let url = url::Url::parse(&url)
            .map_err(|e| NsError::Unavailable(format!("bad URL {url}: {e}")))?;
        let slots = self.slots_of(acct.id.realm());
        let mut attempt = 0;
        let mut fresh_token_tried = false;
        loop {
            attempt += 1;
            let slot = deadline::paced(slots.clone().acquire_owned())
                .await
                .map_err(|_| NsError::Unavailable("the client is closing".into()))?;
            let auth = self.authorization(acct, method.as_str(), &url).await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(header::AUTHORIZATION, auth.expose_secret())
                .header(header::ACCEPT, "application/json");
            if let Some(b) = body {
                // SuiteQL requires it; LedgerSync sends it on every write as well.
                req = req.header("prefer", "transient").json(b);
            }
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => return Err(NsError::Unavailable(e.to_string())),
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| NsError::Unavailable(format!("reading the answer failed: {e}")))?;
            drop(slot);
            let doc: Value = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            };
            if status.is_success() {
                return Ok((status, headers, doc));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                if attempt >= self.settings.throttle_attempts {
                    return Err(NsError::Throttled { attempts: attempt });
                }
                let wait = self.settings.throttle_wait * 2u32.pow(attempt.min(6) - 1);
                let jitter: f64 = rand::Rng::random_range(&mut rand::rng(), 0.8..1.2);
                deadline::paced(tokio::time::sleep(wait.mul_f64(jitter))).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                // A cached bearer token may have been revoked or invalidated: once, try a fresh
                // one before calling the credentials refused.
                self.forget_token(acct);
                if matches!(acct.credentials, Credentials::M2m(_)) && !fresh_token_tried {
                    fresh_token_tried = true;
                    continue;
                }
                return Err(NsError::Auth(String::new()));
            }
            if status == StatusCode::NOT_FOUND {
                return Err(NsError::NotFound);
            }
            let first = doc.get("o:errorDetails").and_then(|d| d.get(0));
            let text = |k: &str| {
                first
                    .and_then(|f| f.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if status.is_server_error() {
                return Err(NsError::Unavailable(format!(
                    "HTTP {} {}",
                    status.as_u16(),
                    text("detail").unwrap_or_default()
                )));
            }
            return Err(NsError::Refused {
                status: status.as_u16(),
                code: text("o:errorCode").unwrap_or_else(|| "UNKNOWN".into()),
                detail: text("detail").unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                path: text("o:errorPath"),
            });
        }
    }

    /// Forgets the account's cached bearer token, so the next call asks NetSuite afresh (a
    /// credentials check must prove the credentials, not a token they once earned).
    pub fn forget_token(&self, acct: &Account) {
        if let Credentials::M2m(creds) = &acct.credentials {
            self.tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&token_key(acct, creds));
        }
    }

    fn slots_of(&self, realm: &str) -> Arc<Semaphore> {
        let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(realm.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.concurrency.max(1) as usize)))
            .clone()
    }

    /// The `Authorization` value for one request.
    async fn authorization(
        &self,
        acct: &Account,
        method: &str,
        url: &url::Url,
    ) -> Result<SecretString, NsError> {
        match &acct.credentials {
            Credentials::Tba(creds) => Ok(SecretString::from(tba::authorization(
                method,
                url,
                acct.id.realm(),
                creds,
                &Stamp::now(),
            ))),
            Credentials::M2m(creds) => {
                let token = self.bearer(acct, creds).await?;
                Ok(SecretString::from(format!(
                    "Bearer {}",
                    token.expose_secret()
                )))
            }
        }
    }

    /// A bearer token for the account: the cached one until five minutes before it expires.
    async fn bearer(
        &self,
        acct: &Account,
        creds: &M2mCredentials,
    ) -> Result<SecretString, NsError> {
        let key = token_key(acct, creds);
        if let Some((token, until)) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if *until > Instant::now() + Duration::from_secs(300) {
                return Ok(token.clone());
            }
        }
        let url = m2m::token_url(&acct.base_url);
        let assertion = m2m::assertion(creds, &url, chrono::Utc::now())
            .map_err(|e| NsError::Auth(format!(" ({e})")))?;
        let resp = self
            .http
            .post(&url)
            .form(&m2m::token_form(&assertion))
            .send()
            .await
            .map_err(|e| NsError::Unavailable(format!("token request: {e}")))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let error = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no error code");
            return if status.is_server_error() {
                Err(NsError::Unavailable(format!(
                    "token endpoint HTTP {}",
                    status.as_u16()
                )))
            } else {
                Err(NsError::Auth(format!(
                    " (the token endpoint answered {error}: check the client id, the certificate id and that the certificate is the one registered on the M2M setup page)"
                )))
            };
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| NsError::Unavailable("the token answer has no access_token".into()))?;
        let ttl = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        let token = SecretString::from(token.to_string());
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key,
                (token.clone(), Instant::now() + Duration::from_secs(ttl)),
            );
        Ok(token)
    }
}

/// A cached token's key: the account and the very credentials that earned it (the key's
/// fingerprint, never the key), so other credentials for the same account never reuse it.
fn token_key(acct: &Account, creds: &M2mCredentials) -> String {
    use sha2::{Digest, Sha256};
    let fingerprint = Sha256::digest(creds.private_key_pem.expose_secret().as_bytes());
    format!(
        "{}|{}|{}|{}|{:x}",
        acct.base_url,
        acct.id.realm(),
        creds.client_id,
        creds.certificate_id,
        fingerprint
    )
}

/// The record id at the end of a `Location` header.
fn location_id(headers: &header::HeaderMap) -> Option<String> {
    let loc = headers.get(header::LOCATION)?.to_str().ok()?;
    let id = loc.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

impl NetSuiteClient {
    /// Creates a record; its internal id, read from `Location`.
    pub async fn create(
        &self,
        acct: &Account,
        kind: &str,
        body: &Value,
    ) -> Result<String, NsError> {
        let path = format!("/services/rest/record/v1/{kind}");
        let (_, headers, _) = self.call(acct, Method::POST, &path, Some(body)).await?;
        location_id(&headers)
            .ok_or_else(|| NsError::Unavailable("the create answered no Location".into()))
    }
}
