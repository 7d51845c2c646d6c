//! Addresses as QuickBooks keeps them (reference § 5 and § 9): each gets an `Id` of its own, and
//! since 2025-10-31 `Country` comes back as an ISO 3166 alpha-3 code (`US` or `United States` is
//! answered `USA`). A country the ISO list does not know is kept as sent ([UNCONFIRMED] what
//! QuickBooks does with one).

use isocountry::CountryCode;
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::entities::ApiResult;
use super::store;

/// The alpha-3 code of a country given as an alpha-2 or alpha-3 code or its ISO English name.
pub fn alpha3(country: &str) -> Option<&'static str> {
    let c = country.trim();
    let code = match c.len() {
        2 => CountryCode::for_alpha2_caseless(c).ok(),
        3 => CountryCode::for_alpha3_caseless(c).ok(),
        _ => None,
    }
    .or_else(|| {
        CountryCode::iter()
            .find(|k| k.name().eq_ignore_ascii_case(c))
            .copied()
    })?;
    Some(code.alpha3())
}

/// Completes the addresses of `doc`: an Id for each (one sent again without an Id keeps the
/// one `current` has), and the country as alpha-3.
pub async fn complete(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    current: Option<&Value>,
) -> ApiResult<()> {
    for addr in ["BillAddr", "ShipAddr"] {
        if !doc[addr].is_object() {
            continue;
        }
        if let Some(code) = doc[addr]["Country"].as_str().and_then(alpha3) {
            doc[addr]["Country"] = json!(code);
        }
        if doc[addr].get("Id").is_some() {
            continue;
        }
        let id = match current.and_then(|cur| cur[addr]["Id"].as_str()) {
            Some(kept) => kept.to_string(),
            None => store::next_id(c, realm).await?.to_string(),
        };
        doc[addr]["Id"] = json!(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_come_back_as_alpha_3() {
        for (given, want) in [
            ("US", Some("USA")),
            ("us", Some("USA")),
            ("GBR", Some("GBR")),
            ("Germany", Some("DEU")),
            ("Atlantis", None),
        ] {
            assert_eq!(alpha3(given), want, "{given}");
        }
    }
}
