//! QuickBooks amounts are decimal numbers in the transaction's currency, with that currency's own
//! number of decimals (JPY none, KWD three: reference § 9); ours are whole minor units. Both
//! directions go through the shared ISO 4217 table ([`crate::domain::money`]), as every
//! connector's do.
//!
//! The sandbox keeps its own books in ten-thousandths of a unit ([`to_scaled`]), exact for every
//! ISO 4217 currency, so it needs to know no currency to add up an invoice.

use serde_json::{json, Value};

use crate::domain::money;

fn number(v: Option<&Value>) -> Option<f64> {
    let v = v?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Whole minor units of `currency` of a QuickBooks amount (a number, or a numeric string); None
/// otherwise. Rounding to the currency's decimals absorbs binary noise (19.99 × 100).
pub fn to_minor(v: Option<&Value>, currency: &str) -> Option<i64> {
    money::from_major_f64(number(v)?, currency)
}

/// A QuickBooks amount from whole minor units of `currency`.
pub fn from_minor(minor: i64, currency: &str) -> Value {
    json!(money::to_major_f64(minor, currency))
}

/// Ten-thousandths of a unit per unit: the sandbox's internal scale.
const SCALE: f64 = 10_000.0;

/// A QuickBooks amount in ten-thousandths of its unit (the sandbox's books).
pub fn to_scaled(v: Option<&Value>) -> Option<i64> {
    let f = number(v)?;
    let scaled = (f * SCALE).round();
    (f.is_finite() && scaled.abs() < 9.0e15).then_some(scaled as i64)
}

/// A QuickBooks amount from ten-thousandths of its unit.
pub fn from_scaled(scaled: i64) -> Value {
    json!(scaled as f64 / SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_in_each_currency_s_own_decimals() {
        for (currency, minor, wire) in [
            ("USD", 5997, json!(59.97)),
            ("USD", -250, json!(-2.5)),
            ("JPY", 12_345, json!(12345.0)),
            ("KWD", 12_345, json!(12.345)),
            ("KWD", 1, json!(0.001)),
            ("BHD", 999_999_999_999, json!(999_999_999.999)),
        ] {
            assert_eq!(from_minor(minor, currency), wire, "{currency} {minor}");
            assert_eq!(
                to_minor(Some(&wire), currency),
                Some(minor),
                "{currency} {wire}"
            );
        }
        assert_eq!(to_minor(Some(&json!(59.97000000000001)), "USD"), Some(5997));
        assert_eq!(to_minor(Some(&json!("12.50")), "USD"), Some(1250));
        assert_eq!(to_minor(Some(&json!("12.345")), "KWD"), Some(12_345));
        assert_eq!(to_minor(Some(&json!(500)), "JPY"), Some(500), "not 50,000");
        assert_eq!(to_minor(Some(&json!(null)), "USD"), None);
        assert_eq!(to_minor(None, "USD"), None);
    }

    #[test]
    fn the_sandbox_scale_is_exact_for_every_currency() {
        for wire in [json!(59.97), json!(12345.0), json!(12.345), json!(0.0001)] {
            assert_eq!(from_scaled(to_scaled(Some(&wire)).expect("scaled")), wire);
        }
        assert_eq!(to_scaled(Some(&json!(1.5))), Some(15_000));
    }
}
