//! Time as the emulator reports it: instants are UTC; Intuit prints them in the company's zone,
//! which the emulator fixes at UTC-08:00 (Intuit's samples carry `-08:00`/`-07:00` offsets).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

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

/// A date as Intuit's API takes one (an `xs:date`, or a date-time whose date part counts):
/// `2026-03-01`, `2026-03-01Z`, `2026-03-01-08:00`, `2026-03-01T10:00:00-08:00`,
/// `2026-03-01T10:00:00.000Z` or `2026-03-01T10:00:00`. QuickBooks answers with the plain date.
/// [UNCONFIRMED] that Intuit takes the date-time forms for a date field; `xs:date` allows the
/// zone suffix, and the sandbox errs on the side of accepting what clients send.
pub fn xs_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = s.get(..10)?;
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let rest = &s[10..];
    let zone_ok = |z: &str| {
        z.is_empty()
            || z == "Z"
            || (z.len() == 6
                && (z.starts_with('+') || z.starts_with('-'))
                && chrono::NaiveTime::parse_from_str(&format!("{}:00", &z[1..]), "%H:%M:%S")
                    .is_ok())
    };
    if zone_ok(rest)
        || (rest.starts_with('T')
            && (DateTime::parse_from_rfc3339(s).is_ok()
                || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()))
    {
        Some(date)
    } else {
        None
    }
}

/// Parses an Intuit or RFC 3339 timestamp (with an offset) to UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_in_the_forms_intuit_takes() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1);
        for ok in [
            "2026-03-01",
            "2026-03-01Z",
            "2026-03-01-08:00",
            "2026-03-01+05:30",
            "2026-03-01T10:00:00-08:00",
            "2026-03-01T23:30:00.000Z",
            "2026-03-01T10:00:00",
        ] {
            assert_eq!(xs_date(ok), day, "{ok}");
        }
        for bad in [
            "2026-02-30",
            "03/01/2026",
            "2026-03-01 10:00",
            "2026-03-01T25:00:00Z",
            "2026-03-01x",
            "",
        ] {
            assert_eq!(xs_date(bad), None, "{bad}");
        }
    }
}
