//! Voids (reference §§ 2, 9): an invoice with `POST …/invoice?operation=void`, a payment with
//! `POST …/payment?operation=update&include=void`. The record stays, its amounts zeroed and
//! "Voided" prepended to its PrivateNote. A voided invoice's open balance leaves the customer's;
//! QuickBooks refuses to void an invoice that still has a payment applied. A voided payment no
//! longer pays anything: the invoices it paid are open again for what it applied.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::entities::{
    current_version, meta, release_open_balance, str_field, sync_token, unapply_payment, ApiResult,
};
use super::fault::Fail;
use super::store;

/// Voids the invoice or payment named by `body` (Id and current SyncToken); `operation` is how
/// it was asked (`void`, or `update-include-void` for `operation=update&include=void`).
pub async fn void(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    operation: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    match (entity, operation) {
        ("Invoice", "void") => {}
        ("Payment", "update-include-void") => return void_payment(c, realm, body, now).await,
        ("Invoice", _) => {
            return Err(Fail::business(
                "An invoice is voided with operation=void.",
            ))
        }
        ("Payment", _) => {
            return Err(Fail::business(
                "A payment is voided with operation=update&include=void.",
            ))
        }
        (other, _) => {
            return Err(Fail::business(format!(
                "Only invoices (operation=void) and payments (operation=update&include=void) can be voided, not a {other}."
            )))
        }
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
    stamp_void(&mut doc, &current, now);
    store::put(c, realm, entity, id, &doc, false, now).await?;
    store::queue_webhook(c, realm, entity, &id_text, "Void", now).await?;
    Ok(doc)
}

/// What every void writes: the note, the next SyncToken, the time.
fn stamp_void(doc: &mut Value, current: &Value, now: DateTime<Utc>) {
    let note = str_field(current, "PrivateNote").unwrap_or_default();
    doc["PrivateNote"] = json!(format!("Voided {note}").trim_end().to_string());
    doc["SyncToken"] = json!((sync_token(current) + 1).to_string());
    doc["MetaData"] = meta(
        current["MetaData"]["CreateTime"]
            .as_str()
            .unwrap_or_default(),
        now,
    );
}

async fn void_payment(
    c: &mut SqliteConnection,
    realm: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let (id_text, id, current) = current_version(c, realm, "Payment", &body).await?;
    if str_field(&current, "PrivateNote").is_some_and(|n| n.starts_with("Voided")) {
        return Ok(current);
    }
    unapply_payment(c, realm, &current, now).await?;
    let mut doc = current.clone();
    if let Some(lines) = doc["Line"].as_array_mut() {
        for line in lines {
            line["Amount"] = json!(0);
        }
    }
    doc["TotalAmt"] = json!(0);
    doc["UnappliedAmt"] = json!(0);
    stamp_void(&mut doc, &current, now);
    store::put(c, realm, "Payment", id, &doc, false, now).await?;
    store::queue_webhook(c, realm, "Payment", &id_text, "Void", now).await?;
    Ok(doc)
}
