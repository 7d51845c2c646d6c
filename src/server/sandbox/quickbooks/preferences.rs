//! A company's Preferences (reference § 9): `GET /v3/company/{realm}/preferences` and its sparse
//! update. The sandbox keeps what the connector reads — the home currency, whether
//! multi-currency is on, and the closing date (`AccountingInfoPrefs.BookCloseDate`, absent while
//! the books are open) — and refuses, as QuickBooks does, a transaction dated on or before that
//! date and one in a currency other than the home currency while multi-currency is off.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;

use super::entities::ApiResult;
use super::fault::Fail;
use super::{clock, store};

/// Preferences are one document per company, stored like an entity under this name and id.
const ENTITY: &str = "Preferences";
const ID: i64 = 1;

/// What a new sandbox company starts with: USD, one currency, books open.
fn default_doc() -> Value {
    json!({
        "AccountingInfoPrefs": {
            "FirstMonthOfFiscalYear": "January", "UseAccountNumbers": true,
            "TaxYearMonth": "January", "ClassTrackingPerTxn": false, "TrackDepartments": false,
            "CustomerTerminology": "Customers"
        },
        "SalesFormsPrefs": {
            "AllowShipping": true, "AllowDeposit": true, "AllowDiscount": true,
            "AllowEstimates": true, "ETransactionEnabledStatus": "NotApplicable"
        },
        "CurrencyPrefs": { "MultiCurrencyEnabled": false, "HomeCurrency": { "value": "USD" } },
        "domain": "QBO", "sparse": false, "Id": "1", "SyncToken": "0",
        "MetaData": {
            "CreateTime": "2026-01-01T00:00:00.000-08:00",
            "LastUpdatedTime": "2026-01-01T00:00:00.000-08:00"
        }
    })
}

/// The company's Preferences document.
pub async fn read(c: &mut SqliteConnection, realm: &str) -> ApiResult<Value> {
    if store::company(c, realm).await?.is_none() {
        return Err(Fail::not_found("company"));
    }
    Ok(store::get(c, realm, ENTITY, ID)
        .await?
        .unwrap_or_else(default_doc))
}

/// A sparse update: each preference group sent is merged into the stored one. The SyncToken
/// must be current; the home currency cannot change and multi-currency cannot be turned off
/// (QuickBooks' own rules).
pub async fn update(
    c: &mut SqliteConnection,
    realm: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let mut doc = read(c, realm).await?;
    if body.get("SyncToken").is_none() {
        return Err(Fail::required("SyncToken"));
    }
    if body["SyncToken"] != doc["SyncToken"] {
        return Err(Fail::stale());
    }
    let Value::Object(fields) = body else {
        return Err(Fail::business(
            "The Preferences body must be a JSON object.",
        ));
    };
    for (group, value) in fields {
        if matches!(
            group.as_str(),
            "Id" | "SyncToken" | "sparse" | "domain" | "MetaData"
        ) {
            continue;
        }
        let Value::Object(prefs) = value else {
            return Err(Fail::business(format!(
                "Preferences.{group} must be an object."
            )));
        };
        if group == "CurrencyPrefs" {
            check_currency_change(&doc["CurrencyPrefs"], &prefs)?;
        }
        if let Some(date) = prefs.get("BookCloseDate").and_then(Value::as_str) {
            parse_date(date, "BookCloseDate")?;
        }
        let target = doc[group.as_str()].as_object().cloned().unwrap_or_default();
        let mut merged: Map<String, Value> = target;
        for (k, v) in prefs {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        doc[group.as_str()] = Value::Object(merged);
    }
    let next = doc["SyncToken"]
        .as_str()
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    doc["SyncToken"] = json!(next.to_string());
    doc["MetaData"]["LastUpdatedTime"] = json!(clock::intuit_time(now));
    store::put(c, realm, ENTITY, ID, &doc, false, now).await?;
    Ok(doc)
}

fn check_currency_change(current: &Value, sent: &Map<String, Value>) -> ApiResult<()> {
    if let Some(home) = sent.get("HomeCurrency") {
        if home["value"] != current["HomeCurrency"]["value"] {
            return Err(Fail::business(
                "The home currency cannot be changed once the company is set up.",
            ));
        }
    }
    if sent.get("MultiCurrencyEnabled") == Some(&json!(false))
        && current["MultiCurrencyEnabled"] == json!(true)
    {
        return Err(Fail::business("Multicurrency cannot be turned off."));
    }
    Ok(())
}

pub(super) fn parse_date(text: &str, field: &str) -> ApiResult<NaiveDate> {
    super::clock::xs_date(text).ok_or_else(|| {
        Fail::validation(
            "2040",
            "Invalid Date",
            format!("{field} {text:?} is not a date (yyyy-MM-dd)."),
        )
    })
}

/// Refuses a transaction QuickBooks would refuse for the company's preferences: dated on or
/// before the closing date ("Account Period Closed"), or in a currency other than the home
/// currency while multi-currency is off. A transaction that names no currency is in the home
/// currency, and says so (`CurrencyRef`), as QuickBooks' answers do.
pub async fn check_transaction(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    doc: &mut Value,
) -> ApiResult<()> {
    let prefs = read(c, realm).await?;
    if let (Some(close), Some(date)) = (
        prefs["AccountingInfoPrefs"]["BookCloseDate"].as_str(),
        doc["TxnDate"].as_str(),
    ) {
        let (close, date) = (
            parse_date(close, "BookCloseDate")?,
            parse_date(date, "TxnDate")?,
        );
        if date <= close {
            // [UNCONFIRMED] the code; the message is QuickBooks' (python-quickbooks#208).
            return Err(Fail::validation(
                "6210",
                "Account Period Closed",
                format!("Account Period Closed, Cannot update {entity} dated {date}: the books are closed through {close}."),
            ));
        }
    }
    let home = prefs["CurrencyPrefs"]["HomeCurrency"]["value"]
        .as_str()
        .unwrap_or("USD");
    match doc["CurrencyRef"]["value"].as_str() {
        Some(currency)
            if currency != home
                && prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] != json!(true) =>
        {
            return Err(Fail::business(format!(
                "This company uses only {home}; turn on multicurrency to record {entity} in {currency}."
            )));
        }
        Some(_) => {}
        None => doc["CurrencyRef"] = json!({ "value": home }),
    }
    Ok(())
}
