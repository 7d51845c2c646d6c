//! Sign-in: an email and password checked behind three guards, each decided *before* the slow
//! password check so parallel guesses cannot race past them.
//!
//! 1. **Per source**: at most `per_source_per_minute` attempts a minute from one address (an IPv6
//!    /64); a successful one is given back. This bounds floods of random emails.
//! 2. **Per (account, source)**: each attempt is counted as a failure before the password is
//!    checked; when the count reaches `max_failures` that pair is blocked for `lockout`, doubling
//!    with each further failure (capped at a day). Success clears it. A stranger elsewhere can
//!    therefore not lock the real user out.
//! 3. **A bounded hashing pool** ([`password`]): a burst beyond it is told to retry.
//!
//! Unknown emails go through the same guards, the same argon2 work and the same answers as known
//! ones, so neither timing nor status tells which accounts exist.

use chrono::TimeDelta;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::server::auth::password;
use crate::server::service::errors::store;
use crate::server::service::users::normalize_email;
use crate::server::store::sign_in_throttle::{self, Reservation};
use crate::server::store::{users, Db};

/// The guards' settings.
#[derive(Clone, Debug)]
pub struct SignInPolicy {
    /// Failures in a row, per (account, source), before that pair is blocked.
    pub max_failures: i64,
    /// The first block; each further failure doubles it.
    pub lockout: TimeDelta,
    /// Attempts per minute from one source.
    pub per_source_per_minute: i64,
}

/// The longest block.
const MAX_BLOCK: TimeDelta = TimeDelta::days(1);

impl SignInPolicy {
    /// How long the `count`-th failure in a row blocks its pair.
    pub fn block_for(&self, count: i64) -> TimeDelta {
        let doublings = u32::try_from((count - self.max_failures).clamp(0, 20)).unwrap_or(20);
        self.lockout
            .checked_mul(1 << doublings)
            .unwrap_or(MAX_BLOCK)
            .min(MAX_BLOCK)
    }
}

fn key(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn refused(until: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
    }
}

/// Checks an email and password from `source`. Wrong password and unknown email give the same
/// `Unauthenticated`; a blocked pair or source gets `TooManyRequests` with the wait, whatever the
/// password.
pub async fn authenticate(
    db: &Db,
    policy: &SignInPolicy,
    source: &str,
    email: &str,
    pw: SecretString,
) -> Result<users::UserRow, AppError> {
    let email = normalize_email(email);
    if email.is_empty() || pw.expose_secret().is_empty() {
        return Err(AppError::BadRequest(
            "Enter your email and password.".into(),
        ));
    }
    let now = db.now().await.map_err(store)?;
    let source_key = key(&["source", source]);
    let reservation = sign_in_throttle::reserve_in_window(
        db,
        &source_key,
        now,
        TimeDelta::minutes(1),
        policy.per_source_per_minute,
    )
    .await
    .map_err(store)?;
    if let Reservation::Blocked { until } = reservation {
        tracing::warn!(
            source,
            "sign-in refused: too many attempts from this source"
        );
        return Err(refused(until, now));
    }
    let pair_key = key(&["account", &email, source]);
    let reservation =
        sign_in_throttle::reserve_failure(db, &pair_key, now, policy.max_failures, |n| {
            policy.block_for(n)
        })
        .await
        .map_err(store)?;
    if let Reservation::Blocked { until } = reservation {
        tracing::warn!(
            source,
            "sign-in refused: this account is blocked for this source"
        );
        return Err(refused(until, now));
    }
    let user = users::find_by_email(db, &email).await.map_err(store)?;
    let ok = password::verify(pw, user.as_ref().map(|u| u.password_hash.clone()))
        .await
        .map_err(|password::Busy| AppError::TooManyRequests {
            retry_after_secs: 2,
        })?;
    match user {
        Some(user) if ok && user.is_active => {
            sign_in_throttle::clear(db, &pair_key, now)
                .await
                .map_err(store)?;
            sign_in_throttle::refund(db, &source_key)
                .await
                .map_err(store)?;
            users::record_login(db, user.id, now).await.map_err(store)?;
            Ok(user)
        }
        Some(user) => {
            tracing::warn!(user_id = %user.id, source, "failed sign-in");
            Err(AppError::Unauthenticated)
        }
        None => {
            tracing::warn!(source, "sign-in attempt for an unknown email");
            Err(AppError::Unauthenticated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_double_from_the_limit_and_stop_at_a_day() {
        let p = SignInPolicy {
            max_failures: 5,
            lockout: TimeDelta::minutes(5),
            per_source_per_minute: 60,
        };
        assert_eq!(p.block_for(5), TimeDelta::minutes(5));
        assert_eq!(p.block_for(6), TimeDelta::minutes(10));
        assert_eq!(p.block_for(8), TimeDelta::minutes(40));
        assert_eq!(p.block_for(40), TimeDelta::days(1));
        assert_eq!(p.block_for(i64::MAX), TimeDelta::days(1));
    }

    #[test]
    fn keys_do_not_hold_the_email_in_clear() {
        let k = key(&["account", "a@example.com", "192.0.2.1"]);
        assert_eq!(k.len(), 64);
        assert!(!k.contains("example"));
        assert_ne!(k, key(&["account", "a@example.com", "192.0.2.2"]));
    }
}
