//! The retry schedule (DESIGN § 13): retry n waits 2^n units (a unit is a minute in production)
//! times a random factor in [0.8, 1.2], capped at 2^max_retries units; an ERP's Retry-After wins
//! when it is longer. A pure function, so it is tested exactly.

use rand::Rng;
use std::time::Duration;

/// The delay before retry `n` (n = 1 for the first retry).
pub fn backoff(
    n: u32,
    max_retries: u32,
    unit: Duration,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = n.min(max_retries).min(30);
    let cap = unit.saturating_mul(1u32 << max_retries.min(30));
    let base = unit.saturating_mul(1u32 << exp);
    let jittered = base.mul_f64(jitter.clamp(0.8, 1.2)).min(cap);
    match retry_after {
        Some(hint) if hint > jittered => hint,
        _ => jittered,
    }
}

/// A random jitter factor in [0.8, 1.2].
pub fn jitter() -> f64 {
    rand::rng().random_range(0.8..=1.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn doubles_per_retry_in_minutes() {
        let waits: Vec<u64> = (1..=5)
            .map(|n| backoff(n, 5, MIN, 1.0, None).as_secs())
            .collect();
        assert_eq!(waits, vec![120, 240, 480, 960, 1920]);
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_the_cap() {
        assert_eq!(backoff(2, 5, MIN, 0.8, None).as_secs(), 192);
        assert_eq!(backoff(2, 5, MIN, 1.2, None).as_secs(), 288);
        assert_eq!(
            backoff(2, 5, MIN, 7.0, None).as_secs(),
            288,
            "factor is clamped"
        );
        assert_eq!(
            backoff(5, 5, MIN, 1.2, None).as_secs(),
            1920,
            "capped at 2^max_retries minutes"
        );
        assert_eq!(backoff(9, 5, MIN, 1.0, None).as_secs(), 1920);
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.8..=1.2).contains(&j));
        }
    }

    #[test]
    fn a_longer_retry_after_wins_and_a_shorter_one_does_not() {
        assert_eq!(
            backoff(1, 5, MIN, 1.0, Some(Duration::from_secs(600))).as_secs(),
            600
        );
        assert_eq!(
            backoff(3, 5, MIN, 1.0, Some(Duration::from_secs(5))).as_secs(),
            480
        );
    }
}
