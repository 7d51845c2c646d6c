//! `POST …/invoice?operation=void` (reference § 9): the invoice stays, with its amounts and
//! quantities zeroed and "Voided" prepended to its PrivateNote; its open balance leaves the
//! customer's. QuickBooks refuses to void an invoice that still has a payment applied.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::entities::{
    current_version, meta, release_open_balance, str_field, sync_token, ApiResult,
};
use super::fault::Fail;
use super::store;

/// Voids the invoice named by `body` (Id and current SyncToken).
pub async fn void(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    if entity != "Invoice" {
        return Err(Fail::business(format!(
            "The sandbox voids invoices with operation=void; a {entity} is voided with operation=update&include=void."
        )));
    }
    let (id_text, id, current) = current_version(c, realm, entity, &body).await?;
    let applied = current["LinkedTxn"]
        .as_array()
        .is_some_and(|l| l.iter().any(|t| t["TxnType"] == "Payment"));
    if applied {
        // [UNCONFIRMED] QuickBooks' exact wording; the rule is Intuit's (reference § 9).
        return Err(Fail::business(
            "This invoice has a payment applied and cannot be voided; remove the payment first.",
        ));
    }
    release_open_balance(c, realm, &current, now).await?;
    let mut doc = current.clone();
    if let Some(lines) = doc["Line"].as_array_mut() {
        for line in lines {
            line["Amount"] = json!(0);
            if line["DetailType"] == "SalesItemLineDetail" {
                line["SalesItemLineDetail"]["Qty"] = json!(0);
            }
        }
    }
    doc["TotalAmt"] = json!(0);
    doc["Balance"] = json!(0);
    let note = str_field(&current, "PrivateNote").unwrap_or_default();
    doc["PrivateNote"] = json!(format!("Voided {note}").trim_end().to_string());
    doc["SyncToken"] = json!((sync_token(&current) + 1).to_string());
    doc["MetaData"] = meta(
        current["MetaData"]["CreateTime"]
            .as_str()
            .unwrap_or_default(),
        now,
    );
    store::put(c, realm, entity, id, &doc, false, now).await?;
    store::queue_webhook(c, realm, entity, &id_text, "Void", now).await?;
    Ok(doc)
}
