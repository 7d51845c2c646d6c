//! QuickBooks amounts are decimal numbers with two places (in the company's home currency);
//! ours are whole minor units. The connector and the sandbox convert through here.

use serde_json::{json, Value};

/// Whole minor units of a QuickBooks amount (a number, or a numeric string); None otherwise.
pub fn to_minor(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    let f = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?;
    // Two decimal places; rounding absorbs binary representation noise (19.99 × 100).
    Some((f * 100.0).round() as i64)
}

/// A QuickBooks amount from whole minor units.
pub fn from_minor(minor: i64) -> Value {
    json!(minor as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_through_decimals() {
        for minor in [0, 1, 5997, 1999, 123_456_789, -250] {
            assert_eq!(to_minor(Some(&from_minor(minor))), Some(minor));
        }
        assert_eq!(to_minor(Some(&json!(59.97000000000001))), Some(5997));
        assert_eq!(to_minor(Some(&json!("12.50"))), Some(1250));
        assert_eq!(to_minor(Some(&json!(null))), None);
        assert_eq!(to_minor(None), None);
    }
}
