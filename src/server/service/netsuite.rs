//! Connecting a tenant to its NetSuite account (PRD US-ERP-007, §5.1): the Admin gives the
//! account id and either machine-to-machine credentials (client id, certificate id, the
//! certificate's private key and the certificate, whose expiry we show) or a TBA token. Before
//! anything is stored the credentials are tried with a cheap SuiteQL call, and what the account
//! needs is read: its subsidiaries if it is OneWorld (the Admin picks one) and its home
//! currency. The credentials rest sealed; nothing secret is ever answered back. `validate`
//! re-checks a stored connection and records the outcome on it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::connection::{NetSuiteAccount, Provider, Subsidiary};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::erp::netsuite::account::AccountId;
use crate::server::erp::netsuite::client::{Account, NsError};
use crate::server::erp::netsuite::connector::{NetSuite, Stored, StoredAuth, PROVIDER};
use crate::server::erp::netsuite::m2m;
use crate::server::service::connections::audit_event;
use crate::server::service::errors::{internal, store};
use crate::server::store::connections::{self, ConnectedCompany};
use crate::server::store::{tokens, Db};
use crate::server::time;

/// How the Admin's form names the account and its credentials.
#[derive(Clone, Deserialize, ToSchema)]
pub struct ConnectInput {
    /// The account id as NetSuite shows it (`1234567` or `1234567_SB1`).
    #[schema(min_length = 1, max_length = 40)]
    pub account_id: String,
    /// Machine to machine (recommended) or a TBA token.
    pub credentials: CredentialsInput,
    /// OneWorld accounts: the subsidiary our records go to.
    pub subsidiary_id: Option<String>,
}

/// The credentials, by method.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum CredentialsInput {
    /// OAuth 2.0 client credentials: the integration record's client id, the certificate id
    /// from the M2M setup page, the certificate's private key and the certificate (PEM).
    M2m {
        #[schema(min_length = 1)]
        client_id: String,
        #[schema(min_length = 1)]
        certificate_id: String,
        #[schema(min_length = 1)]
        private_key_pem: String,
        #[schema(min_length = 1)]
        certificate_pem: String,
    },
    /// Token-based authentication: the integration's consumer key and secret, and the token.
    Tba {
        #[schema(min_length = 1)]
        consumer_key: String,
        #[schema(min_length = 1)]
        consumer_secret: String,
        #[schema(min_length = 1)]
        token_id: String,
        #[schema(min_length = 1)]
        token_secret: String,
    },
}

impl std::fmt::Debug for ConnectInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("ConnectInput")
            .field("account_id", &self.account_id)
            .field("subsidiary_id", &self.subsidiary_id)
            .finish_non_exhaustive()
    }
}

fn connector(ns: Option<&NetSuite>) -> Result<&NetSuite, AppError> {
    ns.ok_or_else(|| AppError::BadRequest("NetSuite is not available on this server.".into()))
}

fn given(v: &str, what: &str) -> Result<String, AppError> {
    Some(v.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| AppError::Unprocessable(format!("{what} is required.")))
}

/// Reads the form's credentials, refusing what cannot work before any call (422: the form is
/// well made, its content cannot be used).
fn read_auth(input: &CredentialsInput) -> Result<(StoredAuth, Option<DateTime<Utc>>), AppError> {
    match input {
        CredentialsInput::M2m {
            client_id,
            certificate_id,
            private_key_pem,
            certificate_pem,
        } => {
            let certificate_pem = given(certificate_pem, "The certificate (PEM)")?;
            let expires =
                m2m::certificate_expiry(&certificate_pem).map_err(AppError::Unprocessable)?;
            if expires <= time::now() {
                return Err(AppError::Unprocessable(format!(
                    "The certificate expired on {}; upload a new one on NetSuite's M2M setup page and here.",
                    expires.format("%Y-%m-%d")
                )));
            }
            let private_key_pem = given(private_key_pem, "The private key (PEM)")?;
            // A key that cannot sign is ours to explain, before NetSuite is asked anything.
            let probe = m2m::M2mCredentials {
                client_id: String::new(),
                certificate_id: String::new(),
                private_key_pem: secrecy::SecretString::from(private_key_pem.clone()),
            };
            m2m::assertion(&probe, "https://probe.invalid/token", time::now())
                .map_err(|e| AppError::Unprocessable(e.to_string()))?;
            let auth = StoredAuth::M2m {
                client_id: given(client_id, "The client id")?,
                certificate_id: given(certificate_id, "The certificate id")?,
                private_key_pem,
                certificate_pem,
            };
            Ok((auth, Some(expires)))
        }
        CredentialsInput::Tba {
            consumer_key,
            consumer_secret,
            token_id,
            token_secret,
        } => Ok((
            StoredAuth::Tba {
                consumer_key: given(consumer_key, "The consumer key")?,
                consumer_secret: given(consumer_secret, "The consumer secret")?,
                token_id: given(token_id, "The token id")?,
                token_secret: given(token_secret, "The token secret")?,
            },
            None,
        )),
    }
}

/// A NetSuite refusal in words the Admin can act on (422: the form was well made, NetSuite
/// did not accept it — or could not be asked).
fn refused(e: NsError) -> AppError {
    match e {
        NsError::Unavailable(why) => {
            tracing::warn!(%why, "NetSuite could not be reached while connecting");
            AppError::Unprocessable(format!(
                "NetSuite could not be reached to check the credentials ({why}); nothing was stored. Try again in a moment."
            ))
        }
        other => AppError::Unprocessable(format!("{other}; nothing was stored.")),
    }
}

/// What the account needs, read with the credentials (the cheap call that proves them).
async fn read_account(ns: &NetSuite, acct: &Account) -> Result<Vec<Subsidiary>, NsError> {
    let page = ns
        .client
        .suiteql(
            acct,
            "SELECT id, name FROM subsidiary ORDER BY id",
            &[],
            1000,
            0,
        )
        .await?;
    let subsidiaries: Vec<Subsidiary> = page
        .items
        .into_iter()
        .filter_map(|r| {
            Some(Subsidiary {
                id: r.get("id")?.clone(),
                name: r.get("name").cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(subsidiaries)
}

/// The home currency: the chosen subsidiary's, else the account's base currency (internal id 1
/// in NetSuite accounts — UNCONFIRMED as a rule; it holds in Oracle's samples). Two plain
/// queries rather than a join, which every SuiteQL reader understands.
async fn home_currency(
    ns: &NetSuite,
    acct: &Account,
    subsidiary: Option<&str>,
) -> Result<Option<String>, NsError> {
    let currency = match subsidiary {
        Some(id) => ns
            .client
            .suiteql(
                acct,
                "SELECT currency FROM subsidiary WHERE id = ?",
                &[id],
                1,
                0,
            )
            .await?
            .items
            .first()
            .and_then(|r| r.get("currency").cloned())
            .unwrap_or_else(|| "1".into()),
        None => "1".into(),
    };
    let page = ns
        .client
        .suiteql(
            acct,
            "SELECT symbol FROM currency WHERE id = ?",
            &[&currency],
            1,
            0,
        )
        .await?;
    Ok(page.items.first().and_then(|r| r.get("symbol").cloned()))
}

/// A OneWorld account named without one of its subsidiaries: the ones to choose from.
#[derive(Clone, Debug)]
pub struct ChooseSubsidiary {
    /// Its subsidiaries.
    pub subsidiaries: Vec<Subsidiary>,
    /// What to do, in plain words (listing them).
    pub message: String,
}

/// Connects the caller's tenant to a NetSuite account (IntegrationsManage, a person); a
/// OneWorld account without a valid `subsidiary_id` is a conflict whose message lists them.
pub async fn connect(
    db: &Db,
    ns: Option<&NetSuite>,
    p: &Principal,
    input: ConnectInput,
) -> Result<NetSuiteAccount, AppError> {
    connect_or_choose(db, ns, p, input)
        .await?
        .map_err(|c| AppError::Conflict(c.message))
}

/// The same, answering a OneWorld account without a valid subsidiary with its subsidiaries to
/// pick from (the connect form shows them as a choice). Nothing is stored then.
pub async fn connect_or_choose(
    db: &Db,
    ns: Option<&NetSuite>,
    p: &Principal,
    input: ConnectInput,
) -> Result<Result<NetSuiteAccount, ChooseSubsidiary>, AppError> {
    p.require(Policy::IntegrationsManage)?;
    if p.user_id().is_none() {
        return Err(AppError::Forbidden);
    }
    let ns = connector(ns)?;
    let id: AccountId = input.account_id.parse().map_err(
        |e: crate::server::erp::netsuite::account::BadAccountId| {
            AppError::Unprocessable(e.to_string())
        },
    )?;
    let (auth, certificate_expires_at) = read_auth(&input.credentials)?;
    // Another tenant's account is refused before NetSuite is asked anything about it.
    if let Some(owner) = connections::tenant_for_company(db, PROVIDER, id.realm())
        .await
        .map_err(store)?
    {
        if owner != p.tenant_id {
            return Err(AppError::Conflict(
                "This NetSuite account is already connected to another erp-bridge account. Disconnect it there first.".into(),
            ));
        }
    }
    let acct = ns.account(&id, &auth);
    ns.client.forget_token(&acct);
    let subsidiaries = read_account(ns, &acct).await.map_err(refused)?;
    let subsidiary_id = match (&input.subsidiary_id, subsidiaries.is_empty()) {
        (_, true) => None,
        (Some(s), false) if subsidiaries.iter().any(|x| &x.id == s) => Some(s.clone()),
        (chosen, false) => {
            let list = subsidiaries
                .iter()
                .map(|s| format!("{} {}", s.id, s.name))
                .collect::<Vec<_>>()
                .join(", ");
            let what = if chosen.is_some() {
                "is not one of its subsidiaries"
            } else {
                "needs a subsidiary"
            };
            return Ok(Err(ChooseSubsidiary {
                message: format!(
                    "This OneWorld account {what}: choose one of {list} (subsidiary_id)."
                ),
                subsidiaries,
            }));
        }
    };
    let home_currency = home_currency(ns, &acct, subsidiary_id.as_deref())
        .await
        .map_err(refused)?;
    let method = match auth {
        StoredAuth::M2m { .. } => "m2m",
        StoredAuth::Tba { .. } => "tba",
    };
    let stored = Stored {
        account_id: id.realm().to_string(),
        auth,
        subsidiary_id: subsidiary_id.clone(),
        home_currency: home_currency.clone(),
    };
    let sealed = ns.seal(&stored).map_err(internal)?;
    let who = p.actor.id().to_string();
    let name = format!("NetSuite {}", id.realm());
    let company = ConnectedCompany {
        provider: PROVIDER,
        external_company_id: id.realm(),
        company_name: &name,
        connected_by: &who,
    };
    tokens::connect_with_credentials(
        db,
        p.tenant_id,
        &company,
        &sealed,
        ns.cipher.key_id(),
        time::now(),
    )
    .await
    .map_err(store)?;
    audit_event(
        db,
        p,
        Provider::NetSuite,
        "integration.connected",
        json!({
            "provider": PROVIDER, "account": id.realm(), "method": method,
            "subsidiary_id": subsidiary_id, "home_currency": home_currency,
        }),
    )
    .await?;
    tracing::info!(tenant_id = %p.tenant_id, account = %id, method, "NetSuite connected");
    Ok(Ok(NetSuiteAccount {
        account_id: id.realm().to_string(),
        method: method.into(),
        status: "Connected".into(),
        reason: None,
        subsidiaries,
        subsidiary_id,
        home_currency,
        certificate_expires_at,
    }))
}

/// Re-checks the tenant's stored NetSuite credentials (IntegrationsManage) and records the
/// outcome on the connection: Connected, or Reconnect required with NetSuite's reason.
pub async fn validate(
    db: &Db,
    ns: Option<&NetSuite>,
    p: &Principal,
) -> Result<NetSuiteAccount, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let ns = connector(ns)?;
    let (sealed, status) = tokens::sealed_credentials(db, p.tenant_id, PROVIDER)
        .await
        .map_err(store)?
        .ok_or_else(|| AppError::Conflict("NetSuite is not connected.".into()))?;
    let sealed = match (sealed, status.as_str()) {
        (Some(s), st) if st != "NotConnected" => s,
        _ => return Err(AppError::Conflict("NetSuite is not connected.".into())),
    };
    let stored = ns.open(&sealed).map_err(internal)?;
    let id: AccountId = stored.account_id.parse().map_err(
        |e: crate::server::erp::netsuite::account::BadAccountId| internal(e.to_string()),
    )?;
    let acct = ns.account(&id, &stored.auth);
    ns.client.forget_token(&acct);
    let checked = read_account(ns, &acct).await;
    let (subsidiaries, reason) = match checked {
        Ok(subs) => (subs, None),
        // NetSuite busy or away says nothing about the credentials: the status stays.
        Err(e @ (NsError::Unavailable(_) | NsError::Throttled { .. })) => return Err(refused(e)),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    tokens::set_checked_status(db, p.tenant_id, PROVIDER, reason.as_deref(), time::now())
        .await
        .map_err(store)?;
    audit_event(
        db,
        p,
        Provider::NetSuite,
        "integration.validated",
        json!({ "provider": PROVIDER, "ok": reason.is_none() }),
    )
    .await?;
    let (method, certificate_expires_at) = match &stored.auth {
        StoredAuth::M2m {
            certificate_pem, ..
        } => ("m2m", m2m::certificate_expiry(certificate_pem).ok()),
        StoredAuth::Tba { .. } => ("tba", None),
    };
    Ok(NetSuiteAccount {
        account_id: stored.account_id,
        method: method.into(),
        status: if reason.is_none() {
            "Connected"
        } else {
            "ReconnectRequired"
        }
        .into(),
        reason,
        subsidiaries,
        subsidiary_id: stored.subsidiary_id,
        home_currency: stored.home_currency,
        certificate_expires_at,
    })
}

/// When the tenant's stored M2M certificate expires; None for TBA, no connection, or
/// credentials that cannot be read (the card then shows what validation says).
pub async fn certificate_expiry(
    db: &Db,
    ns: &NetSuite,
    tenant_id: uuid::Uuid,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let (sealed, _) = tokens::sealed_credentials(db, tenant_id, PROVIDER)
        .await
        .ok()??;
    match ns.open(&sealed?).ok()?.auth {
        StoredAuth::M2m {
            certificate_pem, ..
        } => m2m::certificate_expiry(&certificate_pem).ok(),
        StoredAuth::Tba { .. } => None,
    }
}

/// Pulls the tenant's NetSuite account now (IntegrationsManage), instead of waiting for the
/// pull frequency: changed customers, sales orders, customer payments and deletions go to the
/// inbox, which the inbound worker applies within seconds.
pub async fn pull_now(
    db: &Db,
    ns: Option<&NetSuite>,
    p: &Principal,
) -> Result<crate::domain::connection::PullResult, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let ns = connector(ns)?;
    match tokens::sealed_credentials(db, p.tenant_id, PROVIDER)
        .await
        .map_err(store)?
    {
        Some((Some(_), status)) if status == "Connected" => {}
        _ => return Err(AppError::Conflict("NetSuite is not connected.".into())),
    }
    let inbound =
        crate::server::erp::netsuite::inbound::NetSuiteInbound::new(ns.clone(), db.clone());
    let new_changes = inbound.pull(p.tenant_id).await.map_err(|why| {
        AppError::Unprocessable(format!("NetSuite could not be asked for changes: {why}"))
    })?;
    Ok(crate::domain::connection::PullResult { new_changes })
}
