//! Intuit's throttles, per realm (reference § 6): requests per minute, concurrent requests, and
//! batch calls per minute, each over a sliding window. The minute can be shortened by a time
//! scale so a benchmark runs fast while the ratios stay Intuit's.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The throttle settings.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Limits {
    /// Throttle at all.
    pub enabled: bool,
    /// Requests per window and realm (Intuit: 500 per minute).
    pub per_minute: u32,
    /// Requests in flight per realm (Intuit: 10).
    pub concurrent: u32,
    /// Batch calls per window and realm (Intuit: 40 per minute per app).
    pub batch_per_minute: u32,
    /// How many times faster than real time the window runs (1 = a real minute).
    pub time_scale: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            per_minute: 500,
            concurrent: 10,
            batch_per_minute: 40,
            time_scale: 1.0,
        }
    }
}

impl Limits {
    /// The length of Intuit's "minute" under the time scale.
    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.time_scale.max(0.001))
    }
}

#[derive(Default)]
struct RealmState {
    calls: VecDeque<Instant>,
    batches: VecDeque<Instant>,
    in_flight: u32,
}

/// Admission control for every API request.
#[derive(Clone, Default)]
pub struct Limiter {
    realms: Arc<Mutex<HashMap<String, RealmState>>>,
    peak: Arc<std::sync::atomic::AtomicU32>,
}

/// A request admitted: holds its concurrency slot until dropped.
pub struct Permit {
    limiter: Limiter,
    realm: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut realms) = self.limiter.realms.lock() {
            if let Some(r) = realms.get_mut(&self.realm) {
                r.in_flight = r.in_flight.saturating_sub(1);
            }
        }
    }
}

impl Limiter {
    /// Admits a request for `realm`, or None when a limit is reached (answer 429).
    pub fn admit(&self, realm: &str, batch: bool, limits: &Limits) -> Option<Permit> {
        let now = Instant::now();
        let window = limits.window();
        let mut realms = self.realms.lock().ok()?;
        let r = realms.entry(realm.to_string()).or_default();
        while r
            .calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            r.calls.pop_front();
        }
        while r
            .batches
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            r.batches.pop_front();
        }
        if limits.enabled {
            let over = r.calls.len() >= limits.per_minute as usize
                || r.in_flight >= limits.concurrent
                || (batch && r.batches.len() >= limits.batch_per_minute as usize);
            if over {
                return None;
            }
        }
        r.calls.push_back(now);
        if batch {
            r.batches.push_back(now);
        }
        r.in_flight += 1;
        self.peak
            .fetch_max(r.in_flight, std::sync::atomic::Ordering::Relaxed);
        Some(Permit {
            limiter: self.clone(),
            realm: realm.to_string(),
        })
    }

    /// The most requests one realm had in flight at once.
    pub fn peak_concurrency(&self) -> u32 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_window_and_concurrency_caps_hold_per_realm() {
        let limiter = Limiter::default();
        let limits = Limits {
            per_minute: 3,
            concurrent: 2,
            batch_per_minute: 1,
            ..Limits::default()
        };
        let a = limiter.admit("r1", false, &limits).expect("first");
        let b = limiter.admit("r1", true, &limits).expect("second");
        assert!(
            limiter.admit("r1", false, &limits).is_none(),
            "third concurrent refused"
        );
        assert!(
            limiter.admit("r2", false, &limits).is_some(),
            "other realm unaffected"
        );
        drop(a);
        assert!(
            limiter.admit("r1", true, &limits).is_none(),
            "second batch in the window refused"
        );
        let _c = limiter
            .admit("r1", false, &limits)
            .expect("a slot is free again");
        drop(b);
        assert!(
            limiter.admit("r1", false, &limits).is_none(),
            "three calls used the window"
        );
        let off = Limits {
            enabled: false,
            ..limits
        };
        assert!(
            limiter.admit("r1", false, &off).is_some(),
            "limits off admits everything"
        );
    }
}
