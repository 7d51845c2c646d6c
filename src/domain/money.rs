//! Money: integer minor units of an ISO 4217 currency (JPY has 0 decimals, USD 2, KWD 3). The
//! one place that knows how many decimals a currency has; the UI, the services and every ERP
//! connector convert through it.

use iso_currency::Currency;

/// How many decimals `code` has, or `None` when it is not an ISO 4217 currency (or one without
/// minor units, such as gold or SDR).
pub fn decimals(code: &str) -> Option<u32> {
    let currency = Currency::from_code(&code.to_ascii_uppercase())?;
    currency.exponent().map(u32::from)
}

/// Validates a currency code: an ISO 4217 currency with minor units, upper-cased.
pub fn currency_code(code: &str) -> Result<String, String> {
    let upper = code.trim().to_ascii_uppercase();
    match decimals(&upper) {
        Some(_) => Ok(upper),
        None => Err(format!("{code:?} is not an ISO 4217 currency code.")),
    }
}

/// An API's currency code: exactly an upper-case ISO 4217 code with minor units (what the
/// OpenAPI document's enum lists). Forms upper-case what a person typed first.
pub fn strict_code(code: &str) -> Result<String, String> {
    if code == code.to_ascii_uppercase() && decimals(code).is_some() {
        Ok(code.to_string())
    } else {
        Err(format!(
            "{code:?} is not an ISO 4217 currency code (three upper-case letters, such as USD)."
        ))
    }
}

/// Every code [`strict_code`] accepts, in order (the OpenAPI document's enum).
pub fn all_codes() -> Vec<String> {
    let letters = b'A'..=b'Z';
    let mut out = Vec::new();
    for a in letters.clone() {
        for b in letters.clone() {
            for c in letters.clone() {
                let code = String::from_utf8_lossy(&[a, b, c]).into_owned();
                if decimals(&code).is_some() {
                    out.push(code);
                }
            }
        }
    }
    out
}

/// The OpenAPI schema of a currency code: the enum of [`all_codes`].
#[cfg(feature = "ssr")]
pub fn currency_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all_codes()))
        .description(Some("ISO 4217 currency code (upper case)"))
        .build()
}

/// `12345` minor units of `USD` → `"USD 123.45"`; of `JPY` → `"JPY 12345"`; of `KWD` →
/// `"KWD 12.345"`. A code we do not know is shown with two decimals.
pub fn format_money(minor: i64, currency: &str) -> String {
    format!("{currency} {}", major_text(minor, currency))
}

/// The amount alone in major units, as [`parse_major`] reads it back (`12345` USD → `"123.45"`).
pub fn major_text(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let places = decimals(currency).unwrap_or(2);
    if places == 0 {
        return format!("{sign}{abs}");
    }
    let unit = 10u64.pow(places);
    format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = places as usize
    )
}

/// Reads an amount a person typed in major units (`"12.5"`, `"1,250.00"`, `"300"`) as minor
/// units of `currency`. Refuses more decimals than the currency has (never rounds), signs,
/// exponents and amounts beyond `i64`.
pub fn parse_major(text: &str, currency: &str) -> Result<i64, String> {
    let places = decimals(currency)
        .ok_or_else(|| format!("{currency:?} is not an ISO 4217 currency code."))?;
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() {
        return Err("Enter an amount.".into());
    }
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!(
            "{text:?} is not an amount (digits and one decimal point)."
        ));
    }
    if fraction.len() > places as usize {
        return Err(match places {
            0 => format!("{currency} has no decimals."),
            n => format!("{currency} has {n} decimals at most."),
        });
    }
    let too_big = || format!("{text:?} is too large.");
    let unit = 10i64.pow(places);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_big())?
    };
    let padded = format!("{fraction:0<width$}", width = places as usize);
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| too_big())?
    };
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_big)
}

/// The minor units of `currency` in a decimal number an ERP's JSON carries (`19.99` USD →
/// `1999`), rounded to the currency's decimals, which absorbs binary noise such as
/// `59.97000000000001`; None for a number that is not finite or is beyond 2^53 minor units.
pub fn from_major_f64(major: f64, currency: &str) -> Option<i64> {
    let places = decimals(currency).unwrap_or(2);
    let minor = (major * 10f64.powi(places as i32)).round();
    (minor.is_finite() && minor.abs() < 9.0e15).then_some(minor as i64)
}

/// Minor units as the decimal number an ERP's JSON carries (`1999` USD → `19.99`, `500` JPY →
/// `500`), exact for every amount below 2^53 minor units.
pub fn to_major_f64(minor: i64, currency: &str) -> f64 {
    let places = decimals(currency).unwrap_or(2);
    minor as f64 / 10f64.powi(places as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_the_currency_s_own_decimals() {
        assert_eq!(format_money(12345, "USD"), "USD 123.45");
        assert_eq!(format_money(5, "EUR"), "EUR 0.05");
        assert_eq!(format_money(-250, "USD"), "USD -2.50");
        assert_eq!(format_money(12345, "JPY"), "JPY 12345");
        assert_eq!(format_money(12345, "KWD"), "KWD 12.345");
        assert_eq!(format_money(7, "KWD"), "KWD 0.007");
        for (minor, code) in [(12345, "USD"), (300, "JPY"), (7, "KWD"), (0, "EUR")] {
            assert_eq!(parse_major(&major_text(minor, code), code), Ok(minor));
        }
    }

    #[test]
    fn parses_what_a_person_types() {
        assert_eq!(parse_major("12.5", "USD"), Ok(1250));
        assert_eq!(parse_major(" 1,250.00 ", "USD"), Ok(125_000));
        assert_eq!(parse_major("300", "JPY"), Ok(300));
        assert_eq!(parse_major("1.234", "KWD"), Ok(1234));
        assert_eq!(parse_major(".5", "EUR"), Ok(50));
        assert_eq!(parse_major("0", "USD"), Ok(0));
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        assert!(parse_major("1.5", "JPY")
            .unwrap_err()
            .contains("no decimals"));
        assert!(parse_major("1.005", "USD")
            .unwrap_err()
            .contains("2 decimals"));
        assert!(parse_major("-3", "USD").is_err());
        assert!(parse_major("1e3", "USD").is_err());
        assert!(parse_major("", "USD").is_err());
        assert!(parse_major(".", "USD").is_err());
        assert!(parse_major("99999999999999999999", "USD").is_err());
        assert!(parse_major("92233720368547758.07", "USD").is_ok());
        assert!(parse_major("92233720368547758.08", "USD").is_err());
        assert!(parse_major("1", "XYZ").is_err());
    }

    #[test]
    fn the_api_takes_exactly_the_listed_codes() {
        let all = all_codes();
        assert!(all.contains(&"USD".to_string()) && all.contains(&"JPY".to_string()));
        assert!(!all.contains(&"XAU".to_string()));
        assert_eq!(strict_code("EUR"), Ok("EUR".into()));
        assert!(strict_code("eur").is_err());
        assert!(strict_code("AAA").is_err());
    }

    #[test]
    fn validates_codes() {
        assert_eq!(currency_code("eur"), Ok("EUR".into()));
        assert!(currency_code("XYZ").is_err());
        assert!(currency_code("XAU").is_err(), "gold has no minor units");
    }

    #[test]
    fn converts_to_the_decimal_an_erp_carries() {
        assert_eq!(to_major_f64(1999, "USD"), 19.99);
        assert_eq!(to_major_f64(500, "JPY"), 500.0);
        assert_eq!(to_major_f64(1234, "KWD"), 1.234);
    }
}
