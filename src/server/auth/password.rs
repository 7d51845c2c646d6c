//! Password hashing (argon2id via `password-auth`), run off the async runtime in a bounded pool.
//!
//! Each argon2id computation holds 19 MiB for its duration, so at most [`concurrency`] run at
//! once and at most [`MAX_WAITING`] more wait for a turn; past that a caller is told the server is
//! busy at once. A flood of sign-ins therefore costs a bounded amount of memory, however many
//! arrive.

use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Callers allowed to wait for a hashing slot before the rest are turned away.
pub const MAX_WAITING: usize = 64;

/// The hashing pool is full: try again shortly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks in progress")]
pub struct Busy;

/// Hashing slots: one per core, at least two.
pub fn concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

/// Hashing slots and a bounded queue for them.
struct Pool {
    slots: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl Pool {
    fn new(slots: usize, max_waiting: usize) -> Pool {
        Pool {
            slots: Semaphore::new(slots),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, or refuses at once when the queue
    /// is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Result<T, tokio::task::JoinError>, Busy> {
        let permit = match self.slots.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(Busy);
                }
                let acquired = self.slots.acquire().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                acquired.map_err(|_| Busy)?
            }
        };
        let result = tokio::task::spawn_blocking(work).await;
        drop(permit);
        Ok(result)
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::new(concurrency(), MAX_WAITING))
}

/// Hashes a password into a PHC string (waits for a slot: setting a password is not refused).
pub async fn hash(password: SecretString) -> Result<String, tokio::task::JoinError> {
    let pool = pool();
    let _permit = pool.slots.acquire().await;
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password.expose_secret()))
        .await
}

/// Checks a password against a PHC string. Runs the full argon2 computation even when `hash` is
/// `None` (unknown user), so response time does not reveal which emails exist.
/// `Err(Busy)` when the hashing pool is full.
pub async fn verify(password: SecretString, hash: Option<String>) -> Result<bool, Busy> {
    let result = pool()
        .run(move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            password_auth::verify_password(password.expose_secret(), &hash).is_ok()
        })
        .await?;
    Ok(matches!(result, Ok(true)))
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
        assert_eq!(
            verify(SecretString::from("correct horse battery"), Some(h.clone())).await,
            Ok(true)
        );
        assert_eq!(
            verify(SecretString::from("wrong"), Some(h)).await,
            Ok(false)
        );
        assert_eq!(
            verify(SecretString::from("anything"), None).await,
            Ok(false)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_beyond_the_queue_is_turned_away_not_queued() {
        let h = hash(SecretString::from("correct horse battery"))
            .await
            .expect("hash");
        // A pool of its own, so other tests' checks do not share it.
        let pool = std::sync::Arc::new(Pool::new(2, 8));
        let checks: Vec<_> = (0..60)
            .map(|_| {
                let (h, pool) = (h.clone(), pool.clone());
                tokio::spawn(async move {
                    pool.run(move || password_auth::verify_password("guess", &h).is_ok())
                        .await
                })
            })
            .collect();
        let mut busy = 0;
        for check in checks {
            match check.await.expect("task") {
                Err(Busy) => busy += 1,
                Ok(ok) => assert!(!ok.expect("joined")),
            }
        }
        assert!(
            busy >= 40,
            "at most 2 checks run and 8 wait; {busy} of 60 were turned away"
        );
    }
}
