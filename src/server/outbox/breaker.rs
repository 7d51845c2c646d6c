//! The circuit breaker per (tenant, provider), persisted so every process shares it and it
//! survives restarts. Its unit is a delivery pass, not an event (DESIGN § 14): a pass is
//! *failed* when none of its attempts succeeded and at least one met an ERP-side failure (5xx,
//! timeout, connection error). After `threshold` failed passes in a row the provider's
//! deliveries pause for `base_cooldown`; when the pause ends one probe delivery decides: success
//! closes the breaker, failure pauses it again for twice as long (up to `max_cooldown`).
//! Throttling, rejected payloads and refused credentials never count: they say nothing about
//! whether the ERP is up.

use chrono::{DateTime, TimeDelta, Utc};

use crate::server::store::health::HealthRow;

/// Breaker settings.
#[derive(Clone, Debug)]
pub struct BreakerConfig {
    /// Failed passes in a row that open the breaker.
    pub threshold: i64,
    /// First cool-down.
    pub base_cooldown: TimeDelta,
    /// Longest cool-down.
    pub max_cooldown: TimeDelta,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 3,
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

/// How a pass went, as far as the ERP's health goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PassVerdict {
    /// At least one delivery succeeded.
    Succeeded,
    /// Nothing succeeded and at least one attempt met an ERP-side failure (the last one's text).
    Failed(String),
    /// Nothing was attempted, or only throttled / rejected / refused: no evidence either way.
    Inconclusive,
}

/// The gate for a breaker row at `now`.
pub fn gate(h: &HealthRow, now: DateTime<Utc>) -> Gate {
    match h.state.as_str() {
        "Open" if h.open_until.is_some_and(|t| t > now) => Gate::Paused,
        "Open" | "HalfOpen" => Gate::Probe,
        _ => Gate::Open,
    }
}

/// The row after a pass that went through `gate` with `verdict`.
pub fn after_pass(
    h: &HealthRow,
    gate: Gate,
    verdict: &PassVerdict,
    cfg: &BreakerConfig,
    now: DateTime<Utc>,
) -> HealthRow {
    match verdict {
        PassVerdict::Inconclusive => h.clone(),
        PassVerdict::Succeeded if h.state == "Closed" && h.consecutive_failures == 0 => h.clone(),
        PassVerdict::Succeeded => HealthRow {
            // Keep the last failure for the dashboard; the breaker itself is closed.
            last_failure_at: h.last_failure_at,
            last_error: h.last_error.clone(),
            ..HealthRow::closed()
        },
        PassVerdict::Failed(error) => {
            let failures = h.consecutive_failures + 1;
            let mut next = HealthRow {
                consecutive_failures: failures,
                last_failure_at: Some(now),
                last_error: Some(error.chars().take(500).collect()),
                ..h.clone()
            };
            let probe_failed = gate == Gate::Probe;
            if probe_failed || failures >= cfg.threshold {
                // A failed probe doubles the pause; a first opening takes the base cool-down.
                let opened_before = if probe_failed { h.open_count.max(1) } else { 0 };
                let factor = 1i32 << opened_before.clamp(0, 20);
                let cooldown = (cfg.base_cooldown * factor).min(cfg.max_cooldown);
                next.state = "Open".into();
                next.open_until = Some(now + cooldown);
                next.open_count = opened_before + 1;
            }
            next
        }
    }
}

/// Why the breaker is open, in plain words for the dashboard.
pub fn explain(h: &HealthRow) -> Option<String> {
    if h.state != "Open" {
        return None;
    }
    let cause = h.last_error.as_deref().unwrap_or("no answer");
    Some(format!(
        "Paused after {} delivery passes in a row failed on the ERP's side (last: {cause}).",
        h.consecutive_failures
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            threshold: 2,
            base_cooldown: TimeDelta::seconds(10),
            max_cooldown: TimeDelta::seconds(25),
        }
    }

    fn failed() -> PassVerdict {
        PassVerdict::Failed("503".into())
    }

    #[test]
    fn opens_after_a_run_of_failed_passes_then_probe_failures_double_and_cap() {
        let now = Utc::now();
        let mut h = HealthRow::closed();
        h = after_pass(&h, Gate::Open, &failed(), &cfg(), now);
        assert_eq!(gate(&h, now), Gate::Open, "one failed pass is not a run");
        h = after_pass(&h, Gate::Open, &failed(), &cfg(), now);
        assert_eq!(gate(&h, now), Gate::Paused);
        assert_eq!(
            h.open_until,
            Some(now + TimeDelta::seconds(10)),
            "one cool-down"
        );
        let later = now + TimeDelta::seconds(11);
        assert_eq!(
            gate(&h, later),
            Gate::Probe,
            "one probe after the cool-down"
        );
        h = after_pass(&h, Gate::Probe, &failed(), &cfg(), later);
        assert_eq!(
            h.open_until,
            Some(later + TimeDelta::seconds(20)),
            "doubled"
        );
        h = after_pass(&h, Gate::Probe, &failed(), &cfg(), later);
        assert_eq!(h.open_until, Some(later + TimeDelta::seconds(25)), "capped");
        assert!(explain(&h).is_some_and(|e| e.contains("503")));
        h = after_pass(&h, Gate::Probe, &PassVerdict::Succeeded, &cfg(), later);
        assert_eq!(gate(&h, later), Gate::Open, "a successful probe closes it");
        assert_eq!(h.state, "Closed");
        assert_eq!(h.consecutive_failures, 0);
        assert_eq!(explain(&h), None);
    }

    #[test]
    fn inconclusive_passes_change_nothing_and_a_success_ends_the_run() {
        let now = Utc::now();
        let h = after_pass(&HealthRow::closed(), Gate::Open, &failed(), &cfg(), now);
        let same = after_pass(&h, Gate::Open, &PassVerdict::Inconclusive, &cfg(), now);
        assert_eq!(same, h);
        let ok = after_pass(&h, Gate::Open, &PassVerdict::Succeeded, &cfg(), now);
        assert_eq!(ok.consecutive_failures, 0);
        let again = after_pass(&ok, Gate::Open, &failed(), &cfg(), now);
        assert_eq!(gate(&again, now), Gate::Open, "the run starts over");
    }
}
