//! Time as the emulator reports it: instants are UTC; Intuit prints them in the company's zone,
//! which the emulator fixes at UTC-08:00 (Intuit's samples carry `-08:00`/`-07:00` offsets).

use chrono::{DateTime, FixedOffset, Utc};

/// Now, in UTC.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// `2026-01-15T10:35:08.123-08:00`.
pub fn intuit_time(t: DateTime<Utc>) -> String {
    let pacific = FixedOffset::west_opt(8 * 3600).unwrap_or_else(|| unreachable!("valid offset"));
    t.with_timezone(&pacific)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// Parses an Intuit or RFC 3339 timestamp (with an offset) to UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|t| t.with_timezone(&Utc))
}
