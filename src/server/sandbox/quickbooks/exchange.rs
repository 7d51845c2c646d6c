//! `GET /v3/company/{realm}/exchangerate?sourcecurrencycode=EUR&asofdate=YYYY-MM-DD` (reference
//! § 9): how many units of the company's home currency one unit of the source currency was worth
//! that day. QuickBooks keeps a rate per currency and day; the sandbox answers from a fixed table
//! of rates against the US dollar (the same every day), crossed to the home currency, so tests
//! can compute what to expect.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::clock;
use super::entities::ApiResult;
use super::fault::Fail;

/// US dollars per unit of each currency the sandbox knows.
const USD_PER_UNIT: [(&str, f64); 10] = [
    ("USD", 1.0),
    ("EUR", 1.08),
    ("GBP", 1.27),
    ("CAD", 0.73),
    ("AUD", 0.65),
    ("CHF", 1.13),
    ("JPY", 0.0067),
    ("KWD", 3.25),
    ("MXN", 0.058),
    ("INR", 0.012),
];

fn usd_per_unit(code: &str) -> Option<f64> {
    USD_PER_UNIT
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, r)| *r)
}

/// The ExchangeRate document for the query's source currency and day (default today).
pub async fn rate(
    c: &mut SqliteConnection,
    realm: &str,
    params: &HashMap<String, String>,
) -> ApiResult<Value> {
    let source = params
        .get("sourcecurrencycode")
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Fail::required("sourcecurrencycode"))?;
    let day = match params.get("asofdate").map(|d| d.trim()) {
        None | Some("") => clock::now().date_naive(),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| Fail::business(format!("asofdate {d:?} is not a date (YYYY-MM-DD).")))?,
    };
    let prefs = super::preferences::read(c, realm).await?;
    let home = prefs["CurrencyPrefs"]["HomeCurrency"]["value"]
        .as_str()
        .unwrap_or("USD")
        .to_uppercase();
    let (Some(from), Some(to)) = (usd_per_unit(&source), usd_per_unit(&home)) else {
        return Err(Fail::not_found(&format!("ExchangeRate {source}/{home}")));
    };
    // QuickBooks quotes rates to six decimal places.
    let rate = (from / to * 1e6).round() / 1e6;
    Ok(json!({
        "SourceCurrencyCode": source,
        "TargetCurrencyCode": home,
        "Rate": rate,
        "AsOfDate": day.format("%Y-%m-%d").to_string(),
        "domain": "QBO", "sparse": false, "SyncToken": "0",
        "MetaData": { "LastUpdatedTime": clock::intuit_time(clock::now()) }
    }))
}
