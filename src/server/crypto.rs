//! Secrets at rest and secret comparison.
//!
//! [`Cipher`] seals tokens and credentials with AES-256-GCM under the master key; each ciphertext
//! is stored as `{key_id}:{base64(nonce || ciphertext)}` so keys can be rotated. [`hash_token`]
//! turns a bearer secret into the value stored for lookup.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The demo master key (base64 of 32 bytes). Printed with a warning in demo mode; never used
/// otherwise.
pub const DEMO_MASTER_KEY: &str = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=";

/// Why a master key or ciphertext was refused. Never contains key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The configured key is not base64 of exactly 32 bytes.
    #[error("ERP_BRIDGE_MASTER_KEY must be base64 of exactly 32 bytes (got {0})")]
    BadKey(String),
    /// The ciphertext names a key id this process does not hold.
    #[error("ciphertext was sealed with key id {0:?}, which is not configured")]
    UnknownKeyId(String),
    /// The ciphertext is malformed or was tampered with.
    #[error("ciphertext is malformed or does not authenticate")]
    Corrupt,
}

/// AES-256-GCM under the master key.
#[derive(Clone)]
pub struct Cipher {
    key_id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    /// Builds the cipher from a base64 key of 32 bytes.
    pub fn from_base64(key_id: &str, key: &SecretString) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| CryptoError::BadKey("text that is not base64".into()))?;
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey(format!("{} bytes", bytes.len())));
        }
        let key = Key::<Aes256Gcm>::from_slice(&bytes);
        Ok(Cipher {
            key_id: key_id.to_string(),
            cipher: Aes256Gcm::new(key),
        })
    }

    /// The id stored beside each ciphertext.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Seals `plaintext` with a fresh random nonce.
    pub fn seal(&self, plaintext: &SecretString) -> Result<String, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.expose_secret().as_bytes())
            .map_err(|_| CryptoError::Corrupt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{}:{}", self.key_id, STANDARD.encode(out)))
    }

    /// Opens a value produced by [`Cipher::seal`].
    pub fn open(&self, stored: &str) -> Result<SecretString, CryptoError> {
        let (key_id, body) = stored.split_once(':').ok_or(CryptoError::Corrupt)?;
        if key_id != self.key_id {
            return Err(CryptoError::UnknownKeyId(key_id.to_string()));
        }
        let bytes = STANDARD.decode(body).map_err(|_| CryptoError::Corrupt)?;
        if bytes.len() < 12 {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| CryptoError::Corrupt)?;
        let text = String::from_utf8(plain).map_err(|_| CryptoError::Corrupt)?;
        Ok(SecretString::from(text))
    }
}

/// A new random secret of 32 bytes, base64url without padding.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a bearer secret: hex SHA-256. Bearer secrets carry 256 bits of entropy, so
/// a fast hash is enough (unlike passwords, which use argon2).
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(id: &str) -> Cipher {
        Cipher::from_base64(id, &SecretString::from(DEMO_MASTER_KEY)).expect("demo key is valid")
    }

    #[test]
    fn seal_then_open_round_trips_and_never_repeats_a_ciphertext() {
        let c = cipher("k1");
        let secret = SecretString::from("refresh-token-value");
        let a = c.seal(&secret).expect("seal");
        let b = c.seal(&secret).expect("seal");
        assert_ne!(a, b, "fresh nonce per seal");
        assert!(a.starts_with("k1:"));
        assert!(!a.contains("refresh-token-value"));
        assert_eq!(
            c.open(&a).expect("open").expose_secret(),
            "refresh-token-value"
        );
    }

    #[test]
    fn tampered_or_foreign_ciphertexts_are_refused() {
        let c = cipher("k1");
        let sealed = c.seal(&SecretString::from("x")).expect("seal");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(matches!(c.open(&tampered), Err(CryptoError::Corrupt)));
        assert!(matches!(
            cipher("k2").open(&sealed),
            Err(CryptoError::UnknownKeyId(_))
        ));
    }

    #[test]
    fn keys_of_the_wrong_size_are_refused() {
        let short = SecretString::from(STANDARD.encode([0u8; 16]));
        assert!(matches!(
            Cipher::from_base64("k", &short),
            Err(CryptoError::BadKey(_))
        ));
        let junk = SecretString::from("not base64!");
        assert!(Cipher::from_base64("k", &junk).is_err());
    }

    #[test]
    fn token_hash_is_stable_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(random_secret().len(), 43);
    }
}
