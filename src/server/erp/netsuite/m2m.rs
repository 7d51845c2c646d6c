//! OAuth 2.0 client credentials — machine to machine — as NetSuite implements it (reference
//! § 1b), the flow Oracle recommends now that token-based authentication ends for new
//! integrations in 2027.1. The integration proves itself with a JWT it signs with the private key
//! of a certificate registered on the account's M2M setup page:
//!
//! - header `typ: JWT`, `alg` PS256 for an RSA key or ES256 for an EC P-256 key (RS256 is not
//!   accepted), `kid` = the certificate id NetSuite shows;
//! - claims `iss` = the client id, `scope` = `rest_webservices`, `aud` = the token endpoint,
//!   `iat`, and `exp` under 60 minutes later;
//! - posted as `grant_type=client_credentials`, `client_assertion_type=…jwt-bearer`,
//!   `client_assertion=<JWT>`; the answer is a 60-minute bearer token and no refresh token.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The scope our calls need (record and SuiteQL REST web services).
pub const SCOPE: &str = "rest_webservices";
/// `client_assertion_type` of a JWT bearer assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion is valid: well under NetSuite's 60-minute ceiling.
pub const ASSERTION_LIFETIME_SECS: i64 = 5 * 60;

/// What an Admin registers for machine-to-machine access.
#[derive(Clone, Debug)]
pub struct M2mCredentials {
    /// The integration record's client id.
    pub client_id: String,
    /// The certificate id from the M2M setup page.
    pub certificate_id: String,
    /// The certificate's private key (PKCS#8 PEM; an RSA key may also be PKCS#1).
    pub private_key_pem: SecretString,
}

/// The assertion's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The client id.
    pub iss: String,
    /// `rest_webservices`.
    pub scope: String,
    /// The token endpoint.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
}

/// Why an assertion could not be made.
#[derive(Debug, thiserror::Error)]
pub enum M2mError {
    /// The key is neither an RSA key nor an EC P-256 key in PEM.
    #[error("the private key is not an RSA or EC P-256 private key in PEM form (PKCS#8, \"-----BEGIN PRIVATE KEY-----\")")]
    Key,
    /// Signing failed.
    #[error("the assertion could not be signed: {0}")]
    Sign(String),
}

/// The signing key and the algorithm its kind calls for.
fn signing_key(pem: &SecretString) -> Result<(EncodingKey, Algorithm), M2mError> {
    let bytes = pem.expose_secret().as_bytes();
    if let Ok(k) = EncodingKey::from_rsa_pem(bytes) {
        return Ok((k, Algorithm::PS256));
    }
    if let Ok(k) = EncodingKey::from_ec_pem(bytes) {
        return Ok((k, Algorithm::ES256));
    }
    Err(M2mError::Key)
}

/// The token endpoint under a SuiteTalk base URL.
pub fn token_url(base_url: &str) -> String {
    format!(
        "{}/services/rest/auth/oauth2/v1/token",
        base_url.trim_end_matches('/')
    )
}

/// A signed client assertion for `token_url`, issued at `now`.
pub fn assertion(
    creds: &M2mCredentials,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<String, M2mError> {
    let (key, alg) = signing_key(&creds.private_key_pem)?;
    let mut header = Header::new(alg);
    header.typ = Some("JWT".into());
    header.kid = Some(creds.certificate_id.clone());
    let claims = Claims {
        iss: creds.client_id.clone(),
        scope: SCOPE.into(),
        aud: token_url.into(),
        iat: now.timestamp(),
        exp: now.timestamp() + ASSERTION_LIFETIME_SECS,
    };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| M2mError::Sign(e.to_string()))
}

/// The form body of the token request.
pub fn token_form(assertion: &str) -> [(&'static str, String); 3] {
    [
        ("grant_type", "client_credentials".into()),
        ("client_assertion_type", ASSERTION_TYPE.into()),
        ("client_assertion", assertion.into()),
    ]
}

/// When the certificate (PEM) stops being valid: shown on the console, warned 30 days ahead.
pub fn certificate_expiry(certificate_pem: &str) -> Result<DateTime<Utc>, String> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(certificate_pem.trim().as_bytes()).map_err(|_| {
            "the certificate is not a PEM certificate (\"-----BEGIN CERTIFICATE-----\")".to_string()
        })?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "the certificate's expiry is out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    fn certificate(days: i64) -> (rcgen::KeyPair, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["erp-bridge.test".into()]).expect("params");
        let until = time::OffsetDateTime::now_utc() + time::Duration::days(days);
        params.not_after = until;
        let cert = params.self_signed(&key).expect("cert");
        (key, cert.pem())
    }

    #[test]
    fn an_ec_key_signs_an_es256_assertion_netsuite_can_check() {
        let (key, _) = certificate(365);
        let creds = M2mCredentials {
            client_id: "client-123".into(),
            certificate_id: "cert-abc".into(),
            private_key_pem: SecretString::from(key.serialize_pem()),
        };
        let url = token_url("https://1234567-sb1.suitetalk.api.netsuite.com/");
        assert_eq!(
            url,
            "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
        );
        let now = Utc::now();
        let jwt = assertion(&creds, &url, now).expect("assertion");
        let header = jsonwebtoken::decode_header(&jwt).expect("header");
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("cert-abc"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let mut check = Validation::new(Algorithm::ES256);
        check.set_audience(&[url.as_str()]);
        check.set_issuer(&["client-123"]);
        let verifying = DecodingKey::from_ec_pem(key.public_key_pem().as_bytes()).expect("public");
        let claims = jsonwebtoken::decode::<Claims>(&jwt, &verifying, &check)
            .expect("verifies")
            .claims;
        assert_eq!(claims.scope, "rest_webservices");
        assert_eq!(claims.iat, now.timestamp());
        assert!(
            claims.exp - claims.iat < 3600,
            "under NetSuite's 60 minutes"
        );
        let form = token_form(&jwt);
        assert_eq!(form[0], ("grant_type", "client_credentials".to_string()));
        assert_eq!(form[1].1, ASSERTION_TYPE);
    }

    #[test]
    fn a_key_that_is_not_one_is_refused_in_plain_words() {
        let creds = M2mCredentials {
            client_id: "c".into(),
            certificate_id: "k".into(),
            private_key_pem: SecretString::from(
                "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n",
            ),
        };
        let e = assertion(&creds, "https://x/token", Utc::now()).expect_err("refused");
        assert!(e.to_string().contains("PKCS#8"), "{e}");
    }

    #[test]
    fn the_certificate_says_when_it_expires() {
        let (_, pem) = certificate(40);
        let expiry = certificate_expiry(&pem).expect("expiry");
        let days = (expiry - Utc::now()).num_days();
        assert!((39..=40).contains(&days), "{days}");
        assert!(certificate_expiry("not a certificate").is_err());
    }
}
