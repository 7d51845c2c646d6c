//! The circuit breaker per (tenant, provider), persisted so every process shares it and it
//! survives restarts. After `threshold` retryable failures in a row the provider's deliveries
//! pause for a cool-down that doubles each time it opens again without recovering; when the
//! cool-down ends one probe delivery decides: success closes it, failure re-opens it.

use chrono::{DateTime, TimeDelta, Utc};

use crate::server::store::health::HealthRow;

/// Breaker settings.
#[derive(Clone, Debug)]
pub struct BreakerConfig {
    /// Retryable failures in a row that open the breaker.
    pub threshold: i64,
    /// First cool-down.
    pub base_cooldown: TimeDelta,
    /// Longest cool-down.
    pub max_cooldown: TimeDelta,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 5,
            base_cooldown: TimeDelta::seconds(30),
            max_cooldown: TimeDelta::minutes(30),
        }
    }
}

/// What the worker may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Deliver normally.
    Open,
    /// Deliver exactly one event as a probe.
    Probe,
    /// Deliver nothing until the cool-down ends.
    Paused,
}

/// The gate for a breaker row at `now`.
pub fn gate(h: &HealthRow, now: DateTime<Utc>) -> Gate {
    match h.state.as_str() {
        "Open" if h.open_until.is_some_and(|t| t > now) => Gate::Paused,
        "Open" | "HalfOpen" => Gate::Probe,
        _ => Gate::Open,
    }
}

/// The row after a successful delivery.
pub fn on_success(_h: &HealthRow) -> HealthRow {
    HealthRow::closed()
}

/// The row after a retryable failure.
pub fn on_failure(
    h: &HealthRow,
    cfg: &BreakerConfig,
    now: DateTime<Utc>,
    error: &str,
) -> HealthRow {
    let failures = h.consecutive_failures + 1;
    let probing = h.state != "Closed";
    let mut next = HealthRow {
        consecutive_failures: failures,
        last_failure_at: Some(now),
        last_error: Some(error.chars().take(500).collect()),
        ..h.clone()
    };
    if probing || failures >= cfg.threshold {
        let factor = 1i32 << h.open_count.clamp(0, 20);
        let cooldown = (cfg.base_cooldown * factor).min(cfg.max_cooldown);
        next.state = "Open".into();
        next.open_until = Some(now + cooldown);
        next.open_count = h.open_count + 1;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            threshold: 3,
            base_cooldown: TimeDelta::seconds(10),
            max_cooldown: TimeDelta::seconds(25),
        }
    }

    #[test]
    fn opens_after_the_threshold_and_the_cool_down_grows_then_caps() {
        let now = Utc::now();
        let mut h = HealthRow::closed();
        for _ in 0..2 {
            h = on_failure(&h, &cfg(), now, "503");
            assert_eq!(gate(&h, now), Gate::Open);
        }
        h = on_failure(&h, &cfg(), now, "503");
        assert_eq!(gate(&h, now), Gate::Paused);
        assert_eq!(h.open_until, Some(now + TimeDelta::seconds(10)));
        let later = now + TimeDelta::seconds(11);
        assert_eq!(
            gate(&h, later),
            Gate::Probe,
            "one probe after the cool-down"
        );
        h = on_failure(&h, &cfg(), later, "503");
        assert_eq!(
            h.open_until,
            Some(later + TimeDelta::seconds(20)),
            "doubled"
        );
        h = on_failure(&h, &cfg(), later, "503");
        assert_eq!(h.open_until, Some(later + TimeDelta::seconds(25)), "capped");
        assert_eq!(on_success(&h), HealthRow::closed());
    }
}
