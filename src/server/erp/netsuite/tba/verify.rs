//! Checking a signed request as NetSuite does: the header read, then method, version, nonce
//! length, timestamp (within five minutes), realm (its exact case) and signature, each refusal
//! named as the Login Audit Trail names it. The sandbox answers every refusal with the same
//! generic 401, as NetSuite does.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::{base_string, encode, oauth_params, Stamp, TbaCredentials, SIGNATURE_METHOD};

/// Why NetSuite refuses a signed request. Over the wire every one is the same generic 401
/// `INVALID_LOGIN`; the code is what the account's Login Audit Trail shows (reference § 1a).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No `OAuth` header, or one that cannot be read.
    #[error("parameter_rejected: {0}")]
    ParameterRejected(String),
    /// A signature method other than HMAC-SHA256.
    #[error("UnknownAlgorithm")]
    UnknownAlgorithm,
    /// An `oauth_version` other than 1.0.
    #[error("VersionRejected")]
    VersionRejected,
    /// A nonce shorter than 6 characters.
    #[error("nonce_rejected")]
    NonceRejected,
    /// A timestamp more than five minutes from the server's time.
    #[error("InvalidTimestamp")]
    InvalidTimestamp,
    /// The realm is not the account's id as NetSuite writes it (uppercase, underscores).
    #[error("InvalidLogin: realm {0:?} is not this account")]
    WrongRealm(String),
    /// The signature does not match.
    #[error("InvalidSignature")]
    InvalidSignature,
}

/// The values of a request's `Authorization: OAuth …` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// `realm`.
    pub realm: String,
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// `oauth_token`.
    pub token_id: String,
    /// `oauth_nonce` and `oauth_timestamp`.
    pub stamp: Stamp,
    /// `oauth_signature_method`.
    pub method: String,
    /// `oauth_version`.
    pub version: String,
    /// `oauth_signature`, decoded.
    pub signature: String,
}

/// Reads an `Authorization` header value (`OAuth k="v", …`, values percent-encoded). A
/// parameter given twice, empty or missing is refused, as NetSuite does.
pub fn parse_header(value: &str) -> Result<Signed, Refusal> {
    let rest = value
        .trim()
        .strip_prefix("OAuth ")
        .ok_or_else(|| Refusal::ParameterRejected("not an OAuth header".into()))?;
    let mut params = std::collections::BTreeMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| Refusal::ParameterRejected(format!("{part:?} is not k=\"v\"")))?;
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| Refusal::ParameterRejected(format!("{k} is not quoted")))?;
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .map_err(|_| Refusal::ParameterRejected(format!("{k} is not UTF-8")))?;
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(Refusal::ParameterRejected(format!("{k} given twice")));
        }
    }
    let mut take = |k: &str| {
        params
            .remove(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Refusal::ParameterRejected(format!("{k} missing or empty")))
    };
    Ok(Signed {
        realm: take("realm")?,
        consumer_key: take("oauth_consumer_key")?,
        token_id: take("oauth_token")?,
        stamp: Stamp {
            nonce: take("oauth_nonce")?,
            timestamp: take("oauth_timestamp")?,
        },
        method: take("oauth_signature_method")?,
        version: take("oauth_version")?,
        signature: take("oauth_signature")?,
    })
}

/// Checks a signed request as NetSuite does, for the account whose realm is `realm`, with the
/// secrets `creds` holds for the header's consumer key and token (the caller looks them up and
/// refuses unknown ones, and remembers the nonce: each may be used once). `now` is the server's
/// Unix time.
pub fn verify(
    method: &str,
    url: &url::Url,
    realm: &str,
    signed: &Signed,
    creds: &TbaCredentials,
    now: i64,
) -> Result<(), Refusal> {
    if signed.method != SIGNATURE_METHOD {
        return Err(Refusal::UnknownAlgorithm);
    }
    if signed.version != "1.0" {
        return Err(Refusal::VersionRejected);
    }
    if signed.stamp.nonce.chars().count() < 6 {
        return Err(Refusal::NonceRejected);
    }
    let at: i64 = signed
        .stamp
        .timestamp
        .parse()
        .map_err(|_| Refusal::InvalidTimestamp)?;
    if (now - at).abs() > 300 {
        return Err(Refusal::InvalidTimestamp);
    }
    // Case matters: a lowercase realm is an invalid login.
    if signed.realm != realm {
        return Err(Refusal::WrongRealm(signed.realm.clone()));
    }
    let base = base_string(method, url, &oauth_params(creds, &signed.stamp));
    let key = format!(
        "{}&{}",
        encode(creds.consumer_secret.expose_secret()),
        encode(creds.token_secret.expose_secret())
    );
    let sent = base64::engine::general_purpose::STANDARD
        .decode(&signed.signature)
        .map_err(|_| Refusal::InvalidSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(base.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&sent)
        .map_err(|_| Refusal::InvalidSignature)
}

#[cfg(test)]
mod tests {
    use super::super::authorization;
    use super::*;
    use secrecy::SecretString;

    fn creds() -> TbaCredentials {
        TbaCredentials {
            consumer_key: "ck".into(),
            consumer_secret: SecretString::from("cs &/"),
            token_id: "tk".into(),
            token_secret: SecretString::from("ts"),
        }
    }

    #[test]
    fn a_signed_request_verifies_and_each_fault_is_named() {
        let url = url::Url::parse(
            "https://1-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=5",
        )
        .expect("url");
        let stamp = Stamp {
            nonce: "n0nce-ok".into(),
            timestamp: "1700000000".into(),
        };
        let header = authorization("POST", &url, "1_SB1", &creds(), &stamp);
        let signed = parse_header(&header).expect("parses");
        assert_eq!(signed.realm, "1_SB1");
        assert_eq!(
            verify("POST", &url, "1_SB1", &signed, &creds(), 1_700_000_100),
            Ok(())
        );
        let check =
            |s: &Signed, url: &url::Url, now: i64| verify("POST", url, "1_SB1", s, &creds(), now);
        assert_eq!(
            check(&signed, &url, 1_700_000_400),
            Err(Refusal::InvalidTimestamp)
        );
        let unsigned_query = url::Url::parse(
            "https://1-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=6",
        )
        .expect("url");
        assert_eq!(
            check(&signed, &unsigned_query, 1_700_000_000),
            Err(Refusal::InvalidSignature)
        );
        let lower = Signed {
            realm: "1_sb1".into(),
            ..signed.clone()
        };
        assert_eq!(
            check(&lower, &url, 1_700_000_000),
            Err(Refusal::WrongRealm("1_sb1".into()))
        );
        let sha1 = Signed {
            method: "HMAC-SHA1".into(),
            ..signed.clone()
        };
        assert_eq!(
            check(&sha1, &url, 1_700_000_000),
            Err(Refusal::UnknownAlgorithm)
        );
        let short = Signed {
            stamp: Stamp {
                nonce: "abc".into(),
                ..signed.stamp.clone()
            },
            ..signed.clone()
        };
        assert_eq!(
            check(&short, &url, 1_700_000_000),
            Err(Refusal::NonceRejected)
        );
        let wrong_secret = TbaCredentials {
            token_secret: SecretString::from("other"),
            ..creds()
        };
        assert_eq!(
            verify("POST", &url, "1_SB1", &signed, &wrong_secret, 1_700_000_000),
            Err(Refusal::InvalidSignature)
        );
        for bad in [
            "Bearer x",
            "OAuth realm=1",
            "OAuth realm=\"1\", realm=\"1\"",
        ] {
            assert!(
                matches!(parse_header(bad), Err(Refusal::ParameterRejected(_))),
                "{bad}"
            );
        }
    }
}
