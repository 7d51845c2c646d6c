//! What a delivery must know of the company before it writes (reference § 9): its home currency,
//! whether multi-currency is on, and its closing date. Read from `Preferences` and kept for a few
//! minutes per company, so checking costs one read per company per few minutes, not one per
//! delivery.

use chrono::NaiveDate;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{QboClient, QboError};

/// How long a company's preferences are trusted before they are read again: a closing date an
/// accountant sets reaches our checks within this time (QuickBooks refuses a write into a
/// closed period either way).
pub const PREFS_TTL: Duration = Duration::from_secs(300);

/// The company preferences our checks need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyPrefs {
    /// ISO 4217 code of the home currency.
    pub home_currency: String,
    /// Whether the company records transactions in other currencies.
    pub multi_currency: bool,
    /// Transactions dated on or before it are refused; None while the books are open.
    pub book_close_date: Option<NaiveDate>,
}

impl CompanyPrefs {
    /// From a `Preferences` document.
    pub fn from_doc(doc: &Value) -> CompanyPrefs {
        CompanyPrefs {
            // QuickBooks always names one; USD only if the document is unreadable.
            home_currency: doc
                .pointer("/CurrencyPrefs/HomeCurrency/value")
                .and_then(Value::as_str)
                .unwrap_or("USD")
                .to_ascii_uppercase(),
            multi_currency: doc
                .pointer("/CurrencyPrefs/MultiCurrencyEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            book_close_date: doc
                .pointer("/AccountingInfoPrefs/BookCloseDate")
                .and_then(Value::as_str)
                .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()),
        }
    }
}

/// Preferences by realm, each with when it was read. Shared by every worker of this process.
#[derive(Clone, Debug, Default)]
pub struct PrefsCache {
    by_realm: Arc<Mutex<HashMap<String, (Instant, CompanyPrefs)>>>,
}

impl PrefsCache {
    /// The company's preferences, read from QuickBooks when not known or older than
    /// [`PREFS_TTL`].
    pub async fn get(
        &self,
        client: &QboClient,
        realm: &str,
        token: &SecretString,
    ) -> Result<CompanyPrefs, QboError> {
        if let Some(p) = self.fresh(realm) {
            return Ok(p);
        }
        let prefs = CompanyPrefs::from_doc(&client.preferences(realm, token).await?);
        self.by_realm
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(realm.to_string(), (Instant::now(), prefs.clone()));
        Ok(prefs)
    }

    fn fresh(&self, realm: &str) -> Option<CompanyPrefs> {
        let map = self.by_realm.lock().unwrap_or_else(|e| e.into_inner());
        map.get(realm)
            .filter(|(at, _)| at.elapsed() < PREFS_TTL)
            .map(|(_, p)| p.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn preferences_are_read_from_intuits_document() {
        let doc = json!({
            "AccountingInfoPrefs": { "BookCloseDate": "2026-06-30" },
            "CurrencyPrefs": { "MultiCurrencyEnabled": false, "HomeCurrency": { "value": "jpy" } }
        });
        assert_eq!(
            CompanyPrefs::from_doc(&doc),
            CompanyPrefs {
                home_currency: "JPY".into(),
                multi_currency: false,
                book_close_date: NaiveDate::from_ymd_opt(2026, 6, 30),
            }
        );
        let open = CompanyPrefs::from_doc(
            &json!({ "CurrencyPrefs": { "HomeCurrency": { "value": "USD" } } }),
        );
        assert_eq!(open.book_close_date, None);
    }
}
