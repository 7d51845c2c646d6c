//! Sales terms (`Term`) and the DueDate they give an invoice (reference § 5: `DueDate` comes from
//! terms). A new company starts with four standard terms. An invoice sent without a DueDate is
//! due its terms' DueDays after its TxnDate; the terms are the invoice's `SalesTermRef`, else its
//! customer's, else the company's default (`Preferences.SalesFormsPrefs.DefaultTerms`, and where
//! a company has not set one, its "Net 30" — the sandbox's choice, as sample companies have
//! it). An invoice with no terms at all is due on its TxnDate.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::entities::{create, str_field, ApiResult};
use super::fault::Fail;
use super::store;

/// The terms a new company starts with: name and days until due.
pub const STANDARD: [(&str, i64); 4] = [
    ("Due on receipt", 0),
    ("Net 15", 15),
    ("Net 30", 30),
    ("Net 60", 60),
];

/// Gives the company the standard terms unless it has terms already.
pub async fn seed(c: &mut SqliteConnection, realm: &str, now: DateTime<Utc>) -> ApiResult<()> {
    if !store::all(c, realm, "Term").await?.is_empty() {
        return Ok(());
    }
    for (name, days) in STANDARD {
        create(
            c,
            realm,
            "Term",
            json!({ "Name": name, "DueDays": days }),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Validates and completes a Term: a name, whole non-negative DueDays; QuickBooks' defaults for
/// the rest.
pub fn prepare(doc: &mut Value) -> ApiResult<()> {
    let name = str_field(doc, "Name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Fail::required("Name"))?
        .to_string();
    if name.chars().count() > 31 {
        return Err(Fail::validation(
            "2050",
            "String length is either shorter or longer than supported by specification",
            "Name is longer than 31 characters",
        ));
    }
    let days = doc.get("DueDays").cloned().unwrap_or(json!(0));
    if !days.as_i64().is_some_and(|d| (0..=999).contains(&d)) {
        return Err(Fail::validation(
            "2170",
            "Invalid Number",
            format!("DueDays must be a whole number of days from 0 to 999, not {days}"),
        ));
    }
    doc["Name"] = json!(name);
    for (key, default) in [
        ("Active", json!(true)),
        ("Type", json!("STANDARD")),
        ("DueDays", days),
        ("DiscountPercent", json!(0)),
        ("DiscountDays", json!(0)),
    ] {
        if doc.get(key).is_none() {
            doc[key] = default;
        }
    }
    Ok(())
}

async fn term(c: &mut SqliteConnection, realm: &str, id: &str) -> ApiResult<Value> {
    let n: i64 = id
        .parse()
        .map_err(|_| Fail::not_found(&format!("Term {id}")))?;
    store::get(c, realm, "Term", n)
        .await?
        .filter(|t| t["Active"].as_bool() != Some(false))
        .ok_or_else(|| Fail::not_found(&format!("Term {id}")))
}

/// The terms an invoice of `customer` gets when it names none: the customer's, else the
/// company's default.
async fn default_terms(
    c: &mut SqliteConnection,
    realm: &str,
    customer: &Value,
) -> ApiResult<Option<Value>> {
    if let Some(id) = customer["SalesTermRef"]["value"].as_str() {
        return term(c, realm, id).await.map(Some);
    }
    let prefs = super::preferences::read(c, realm).await?;
    if let Some(id) = prefs["SalesFormsPrefs"]["DefaultTerms"]["value"].as_str() {
        return term(c, realm, id).await.map(Some);
    }
    Ok(store::by_name(c, realm, "Term", "Net 30")
        .await?
        .into_iter()
        .find(|t| t["Active"].as_bool() != Some(false)))
}

/// Sets the invoice's `SalesTermRef` (when it names none) and, unless it was sent, its
/// `DueDate` from `txn_date` and the terms.
pub async fn due_date(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    customer: &Value,
    txn_date: NaiveDate,
) -> ApiResult<()> {
    let terms = match doc["SalesTermRef"]["value"].as_str() {
        Some(id) => Some(term(c, realm, id).await?),
        None => default_terms(c, realm, customer).await?,
    };
    if let Some(t) = &terms {
        doc["SalesTermRef"] = json!({ "value": t["Id"], "name": t["Name"] });
    }
    if let Some(sent) = str_field(doc, "DueDate") {
        let due = super::preferences::parse_date(sent, "DueDate")?;
        doc["DueDate"] = json!(due.format("%Y-%m-%d").to_string());
        return Ok(());
    }
    let days = terms
        .as_ref()
        .and_then(|t| t["DueDays"].as_i64())
        .unwrap_or(0);
    doc["DueDate"] = json!((txn_date + TimeDelta::days(days))
        .format("%Y-%m-%d")
        .to_string());
    Ok(())
}
