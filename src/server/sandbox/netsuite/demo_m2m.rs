//! The demo account's machine-to-machine credentials: a P-256 key pair and its self-signed
//! certificate (two years, NetSuite's longest), made at the sandbox's first start, kept in its
//! file so they survive restarts, and registered for the account under a fixed client id and
//! certificate id. Whoever may drive the sandbox reads them at
//! `GET /_sandbox/accounts/{account}/demo-m2m`, so any standard OAuth 2.0 client — a JOSE
//! library signing the assertion and one HTTP call — can get a token, as the README shows.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, TimeDelta};
use serde::Serialize;
use sqlx::SqliteConnection;

use super::auth::TOKEN_PATH;
use super::fault::Fail;
use super::{store, Sandbox};

/// The demo integration's client id.
pub const DEMO_CLIENT_ID: &str = "erp-bridge-demo-client";
/// The demo certificate's id (the assertion's `kid`).
pub const DEMO_CERTIFICATE_ID: &str = "erp-bridge-demo-certificate";

/// The demo credentials of an account.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct DemoKeys {
    /// The integration's client id (the assertion's `iss`).
    pub client_id: String,
    /// The certificate's id (the assertion's `kid`).
    pub certificate_id: String,
    /// The private key, PKCS#8 PEM (demo only: this is a sandbox's throw-away key).
    pub private_key_pem: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
}

async fn stored(c: &mut SqliteConnection, account: &str) -> store::DbResult<Option<DemoKeys>> {
    sqlx::query_as(
        "SELECT client_id, certificate_id, private_key_pem, certificate_pem FROM demo_keys WHERE account = $1",
    )
    .bind(account)
    .fetch_optional(c)
    .await
}

/// Makes the account's demo key pair unless it has one, and (re-)registers its certificate.
pub async fn ensure(c: &mut SqliteConnection, account: &str) -> anyhow::Result<DemoKeys> {
    let keys = match stored(c, account).await? {
        Some(k) => k,
        None => {
            let key = rcgen::KeyPair::generate()?;
            let mut params = rcgen::CertificateParams::new(vec!["erp-bridge-demo".into()])?;
            let until = chrono::Utc::now() + TimeDelta::days(729);
            let month = u8::try_from(until.month()).unwrap_or(12);
            let day = u8::try_from(until.day()).unwrap_or(28);
            params.not_after = rcgen::date_time_ymd(until.year(), month, day);
            let cert = params.self_signed(&key)?;
            let keys = DemoKeys {
                client_id: DEMO_CLIENT_ID.into(),
                certificate_id: DEMO_CERTIFICATE_ID.into(),
                private_key_pem: key.serialize_pem(),
                certificate_pem: cert.pem(),
            };
            sqlx::query(
                "INSERT INTO demo_keys (account, client_id, certificate_id, private_key_pem, certificate_pem) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(account)
            .bind(&keys.client_id)
            .bind(&keys.certificate_id)
            .bind(&keys.private_key_pem)
            .bind(&keys.certificate_pem)
            .execute(&mut *c)
            .await?;
            keys
        }
    };
    store::put_certificate(
        c,
        &store::Certificate {
            account: account.into(),
            certificate_id: keys.certificate_id.clone(),
            client_id: keys.client_id.clone(),
            certificate_pem: keys.certificate_pem.clone(),
        },
    )
    .await?;
    Ok(keys)
}

/// `GET /_sandbox/accounts/{account}/demo-m2m`: the demo credentials and the token endpoint's
/// path, or 404 for an account without them.
pub(super) async fn show(State(s): State<Sandbox>, Path(account): Path<String>) -> Response {
    let found = async {
        let mut c = s.inner.db.acquire().await?;
        stored(&mut c, &account).await
    };
    match found.await {
        Ok(Some(k)) => Json(serde_json::json!({
            "account": account,
            "client_id": k.client_id,
            "certificate_id": k.certificate_id,
            "private_key_pem": k.private_key_pem,
            "certificate_pem": k.certificate_pem,
            "token_path": TOKEN_PATH,
            "algorithm": "ES256",
        }))
        .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            format!("account {account} has no demo M2M credentials"),
        )
            .into_response(),
        Err(e) => Fail::from(e).into_response(),
    }
}
