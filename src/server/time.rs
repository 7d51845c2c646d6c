//! The clock. Timestamps are UTC and truncated to microseconds, PostgreSQL's precision, so a value
//! written and read back compares equal on both backends and SQLite's text form sorts in time order.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Now, in UTC, at microsecond precision.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// `t` truncated to whole microseconds.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
