//! Password hashing (argon2id via `password-auth`), off the async runtime on a fixed pool of
//! threads of its own.
//!
//! Each argon2id computation holds 19 MiB for its duration, so at most [`concurrency`] run at
//! once and at most [`MAX_WAITING`] more wait for a turn; past that a caller is told the server is
//! busy at once. The threads are fixed (not tokio's blocking pool, which grows to hundreds of
//! threads, each able to keep a freed 19 MiB block), and large blocks are returned to the system
//! when freed (`keep_large_blocks_mapped`), so the memory a flood of sign-ins can cost stays
//! bounded by the pool's size, however many arrive (BENCHMARKS.md: 86 MB at the peak of one).

use secrecy::{ExposeSecret, SecretString};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Callers allowed to wait for a hashing slot before the rest are turned away.
pub const MAX_WAITING: usize = 64;

/// The hashing pool is full (or stopped): try again shortly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks in progress")]
pub struct Busy;

/// Hashing threads: one per core, at least two.
pub fn concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashing threads and a bounded queue in front of them.
struct Pool {
    jobs: SyncSender<Job>,
}

impl Pool {
    fn new(threads: usize, max_waiting: usize) -> Pool {
        let (jobs, queue) = sync_channel::<Job>(max_waiting);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || work_off(&queue));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a password-hashing thread");
            }
        }
        Pool { jobs }
    }

    /// Runs `work` on a hashing thread, or refuses at once when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

/// A hashing thread: takes jobs until the pool is gone.
fn work_off(queue: &Mutex<Receiver<Job>>) {
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        keep_large_blocks_mapped();
        Pool::new(concurrency(), MAX_WAITING)
    })
}

/// glibc raises its mmap threshold each time a large mapped block is freed; from then on the
/// 19 MiB argon2 buffers come from per-thread heaps, which keep them after `free` (measured: 480
/// MB resident after a burst of 70 checks). A fixed threshold keeps every block over 1 MiB mapped,
/// so freeing it gives it back to the system.
fn keep_large_blocks_mapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; glibc serialises it with allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Hashes a password into a PHC string. Setting a password is not refused when the pool is
/// busy: it waits for room in the queue.
pub async fn hash(password: SecretString) -> String {
    let password = Arc::new(password);
    loop {
        let pw = password.clone();
        match pool()
            .run(move || password_auth::generate_hash(pw.expose_secret()))
            .await
        {
            Ok(hash) => return hash,
            Err(Busy) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Checks a password against a PHC string. Runs the full argon2 computation even when `hash` is
/// `None` (unknown user), so response time does not reveal which emails exist.
/// `Err(Busy)` when the hashing pool is full.
pub async fn verify(password: SecretString, hash: Option<String>) -> Result<bool, Busy> {
    pool()
        .run(move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            password_auth::verify_password(password.expose_secret(), &hash).is_ok()
        })
        .await
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
        let h = hash(SecretString::from("correct horse battery")).await;
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
        let h = hash(SecretString::from("correct horse battery")).await;
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
                Ok(ok) => assert!(!ok),
            }
        }
        assert!(
            busy >= 40,
            "at most 2 checks run and 8 wait; {busy} of 60 were turned away"
        );
    }
}
