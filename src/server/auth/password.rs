//! Password hashing (argon2id via `password-auth`), run off the async runtime.

use secrecy::{ExposeSecret, SecretString};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashes a password into a PHC string.
pub async fn hash(password: SecretString) -> Result<String, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password.expose_secret()))
        .await
}

/// Checks a password against a PHC string. Runs the full argon2 computation even when `hash` is
/// `None` (unknown user), so response time does not reveal which emails exist.
pub async fn verify(password: SecretString, hash: Option<String>) -> bool {
    let result = tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        password_auth::verify_password(password.expose_secret(), &hash).is_ok()
    })
    .await;
    matches!(result, Ok(true))
}

/// An argon2id hash of a random string nobody knows, for the unknown-user path; computed once.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| password_auth::generate_hash(crate::server::crypto::random_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let h = hash(SecretString::from("correct horse battery"))
            .await
            .expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(SecretString::from("correct horse battery"), Some(h.clone())).await);
        assert!(!verify(SecretString::from("wrong"), Some(h)).await);
        assert!(!verify(SecretString::from("anything"), None).await);
    }
}
