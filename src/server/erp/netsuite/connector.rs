//! The NetSuite connector's process-wide parts: the client, where accounts are reached (their
//! own SuiteTalk host, or an erp-bridge sandbox), and a tenant's credentials as they rest in
//! `integration_connections.credentials_encrypted` — one JSON document sealed with the master
//! key, never logged, never answered back.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::account::AccountId;
use super::client::{Account, Credentials, NetSuiteClient};
use super::m2m::M2mCredentials;
use super::tba::TbaCredentials;
use crate::server::crypto::{Cipher, CryptoError};
use crate::server::store::{tokens, Db};

/// Why a tenant's account cannot be called now.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No connection, or its credentials cannot be used: an Admin must connect again.
    #[error("{0}")]
    NotConnected(String),
    /// The database could not be read; try again.
    #[error("reading the connection failed: {0}")]
    Store(String),
}

/// The provider name stored on connections.
pub const PROVIDER: &str = "NetSuite";

/// The NetSuite connector.
#[derive(Clone)]
pub struct NetSuite {
    /// The REST client.
    pub client: NetSuiteClient,
    /// Every account's base URL when set (an erp-bridge sandbox); else each account's own host.
    pub base_url: Option<String>,
    /// Seals and opens stored credentials.
    pub cipher: Cipher,
}

impl std::fmt::Debug for NetSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuite")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// What is sealed for a connected account.
#[derive(Clone, Serialize, Deserialize)]
pub struct Stored {
    /// The account id as NetSuite writes it.
    pub account_id: String,
    /// How we authenticate, with the secrets.
    pub auth: StoredAuth,
    /// The OneWorld subsidiary records go to, if the account has subsidiaries.
    pub subsidiary_id: Option<String>,
    /// The currency the account (or its subsidiary) keeps its books in.
    pub home_currency: Option<String>,
}

impl Stored {
    /// The mappings of `tenant_id`'s records of `entity_type` with this account.
    pub fn scope<'a>(
        &'a self,
        tenant_id: uuid::Uuid,
        entity_type: &'a str,
    ) -> crate::server::store::mappings::Scope<'a> {
        crate::server::store::mappings::Scope {
            tenant_id,
            provider: PROVIDER,
            external_company_id: &self.account_id,
            entity_type,
        }
    }
}

/// Stored secrets, by method.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum StoredAuth {
    /// Machine to machine.
    M2m {
        client_id: String,
        certificate_id: String,
        private_key_pem: String,
        certificate_pem: String,
    },
    /// Token-based authentication.
    Tba {
        consumer_key: String,
        consumer_secret: String,
        token_id: String,
        token_secret: String,
    },
}

impl NetSuite {
    /// The account as the client calls it.
    pub fn account(&self, id: &AccountId, auth: &StoredAuth) -> Account {
        let credentials = match auth {
            StoredAuth::M2m {
                client_id,
                certificate_id,
                private_key_pem,
                ..
            } => Credentials::M2m(M2mCredentials {
                client_id: client_id.clone(),
                certificate_id: certificate_id.clone(),
                private_key_pem: SecretString::from(private_key_pem.clone()),
            }),
            StoredAuth::Tba {
                consumer_key,
                consumer_secret,
                token_id,
                token_secret,
            } => Credentials::Tba(TbaCredentials {
                consumer_key: consumer_key.clone(),
                consumer_secret: SecretString::from(consumer_secret.clone()),
                token_id: token_id.clone(),
                token_secret: SecretString::from(token_secret.clone()),
            }),
        };
        Account {
            id: id.clone(),
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| id.default_base_url()),
            credentials,
        }
    }

    /// The tenant's connected account, with what was stored for it.
    pub async fn connection(
        &self,
        db: &Db,
        tenant_id: uuid::Uuid,
    ) -> Result<(Account, Stored), OpenError> {
        let row = tokens::sealed_credentials(db, tenant_id, PROVIDER)
            .await
            .map_err(|e| OpenError::Store(e.to_string()))?;
        let Some((Some(sealed), _)) = row else {
            return Err(OpenError::NotConnected(
                "NetSuite is not connected: connect it from the Integrations page".into(),
            ));
        };
        let stored = self.open(&sealed).map_err(|e| {
            OpenError::NotConnected(format!(
                "the stored NetSuite credentials cannot be read ({e}); connect NetSuite again"
            ))
        })?;
        let id: AccountId = stored.account_id.parse().map_err(|e| {
            OpenError::NotConnected(format!(
                "the stored NetSuite account id is not usable ({e}); connect NetSuite again"
            ))
        })?;
        Ok((self.account(&id, &stored.auth), stored))
    }

    /// Seals what a connection keeps.
    pub fn seal(&self, stored: &Stored) -> Result<String, CryptoError> {
        let json = serde_json::to_string(stored).map_err(|_| CryptoError::Corrupt)?;
        self.cipher.seal(&SecretString::from(json))
    }

    /// Opens it again.
    pub fn open(&self, sealed: &str) -> Result<Stored, CryptoError> {
        let json = self.cipher.open(sealed)?;
        serde_json::from_str(json.expose_secret()).map_err(|_| CryptoError::Corrupt)
    }
}
