//! What NetSuite fills in and insists on when a record is saved: required fields (a customer's
//! company name, or a person's first and last name; a subsidiary on a OneWorld account; a sales
//! order's customer and at least one line), defaults taken from related records (an order's
//! currency and subsidiary from its customer, a line's rate from its item), and the amounts it
//! computes (line amounts, the order's total). Refusal wordings follow NetSuite's UI messages
//! and are UNCONFIRMED for REST; the refusals themselves are NetSuite's rules.

use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;

use super::fault::Fail;
use super::schema::RecordType;
use super::store::{self, RecordKey};

/// The name NetSuite shows for a referenced record (`refName`).
pub fn ref_name(target: &str, doc: &Value) -> String {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    match target {
        "customer" => text("entityId")
            .or_else(|| text("companyName"))
            .unwrap_or_default(),
        "item" => text("itemId").unwrap_or_default(),
        "currency" => text("symbol").unwrap_or_default(),
        _ => text("name").unwrap_or_default(),
    }
}

fn missing(what: &str) -> Fail {
    Fail::UserError(format!("Please enter value(s) for: {what}"))
}

/// Completes and checks a record about to be saved.
pub async fn complete(
    c: &mut SqliteConnection,
    account: &str,
    one_world: bool,
    t: &RecordType,
    doc: &mut Map<String, Value>,
    creating: bool,
) -> Result<(), Fail> {
    match t.name {
        "customer" => customer(c, account, one_world, doc, creating).await,
        "salesOrder" => sales_order(c, account, one_world, doc).await,
        _ => Ok(()),
    }
}

async fn customer(
    c: &mut SqliteConnection,
    account: &str,
    one_world: bool,
    doc: &mut Map<String, Value>,
    creating: bool,
) -> Result<(), Fail> {
    let text = |doc: &Map<String, Value>, k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let person = doc
        .get("isPerson")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let name = if person {
        match (text(doc, "firstName"), text(doc, "lastName")) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            _ => return Err(missing("First Name, Last Name")),
        }
    } else {
        text(doc, "companyName").ok_or_else(|| missing("Company Name"))?
    };
    if one_world && !doc.contains_key("subsidiary") {
        return Err(missing("Subsidiary"));
    }
    if creating && text(doc, "entityId").is_none() {
        doc.insert("entityId".into(), json!(name));
    }
    if !doc.contains_key("currency") {
        let base = store::record(c, account, "currency", &RecordKey::Id(1)).await?;
        if let Some(base) = base {
            doc.insert(
                "currency".into(),
                json!({ "id": "1", "refName": ref_name("currency", &base.doc), "type": "currency" }),
            );
        }
    }
    doc.entry("isInactive").or_insert(json!(false));
    doc.entry("isPerson").or_insert(json!(person));
    Ok(())
}

async fn sales_order(
    c: &mut SqliteConnection,
    account: &str,
    one_world: bool,
    doc: &mut Map<String, Value>,
) -> Result<(), Fail> {
    let customer_id = doc
        .get("entity")
        .and_then(|e| e.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| missing("Customer"))?;
    let customer = store::record(c, account, "customer", &RecordKey::Id(customer_id))
        .await?
        .ok_or_else(|| missing("Customer"))?;
    for inherited in ["currency", "subsidiary"] {
        if !doc.contains_key(inherited) {
            if let Some(v) = customer.doc.get(inherited) {
                doc.insert(inherited.into(), v.clone());
            }
        }
    }
    if one_world && !doc.contains_key("subsidiary") {
        return Err(missing("Subsidiary"));
    }
    let Some(Value::Array(lines)) = doc.get_mut("item") else {
        return Err(Fail::UserError(
            "You must enter at least one line item for this transaction.".into(),
        ));
    };
    if lines.is_empty() {
        return Err(Fail::UserError(
            "You must enter at least one line item for this transaction.".into(),
        ));
    }
    let mut subtotal = 0.0;
    for (i, line) in lines.iter_mut().enumerate() {
        let Value::Object(line) = line else { continue };
        let item_id = line
            .get("item")
            .and_then(|e| e.get("id"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| Fail::InvalidContent {
                detail: "Please enter value(s) for: Item".into(),
                path: format!("item.items[{i}].item"),
            })?;
        let quantity = line.get("quantity").and_then(Value::as_f64).unwrap_or(1.0);
        let rate = match line.get("rate").and_then(Value::as_f64) {
            Some(r) => r,
            None => store::record(c, account, "item", &RecordKey::Id(item_id))
                .await?
                .and_then(|it| it.doc.get("basePrice").and_then(Value::as_f64))
                .unwrap_or(0.0),
        };
        let amount = match line.get("amount").and_then(Value::as_f64) {
            Some(a) => a,
            None => round2(quantity * rate),
        };
        line.insert("quantity".into(), json!(quantity));
        line.insert("rate".into(), json!(rate));
        line.insert("amount".into(), json!(amount));
        subtotal += amount;
    }
    let shipping = doc
        .get("shippingCost")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    doc.insert("subtotal".into(), json!(round2(subtotal)));
    doc.insert("total".into(), json!(round2(subtotal + shipping)));
    if !doc.contains_key("tranId") {
        let number = store::next_id(c, account).await?;
        doc.insert("tranId".into(), json!(format!("SO{number}")));
    }
    doc.entry("tranDate")
        .or_insert_with(|| json!(super::now().format("%Y-%m-%d").to_string()));
    doc.entry("status")
        .or_insert(json!({ "id": "B", "refName": "Pending Fulfillment" }));
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What a fresh account holds: its currencies, the demo SKUs as items, and for a OneWorld
/// account two subsidiaries. Ids are fixed, so the demo and the tests can name them.
pub async fn seed(c: &mut SqliteConnection, account: &store::Account) -> Result<(), Fail> {
    let now = super::now();
    let put = |id: i64, doc: Value| store::Record {
        id,
        external_id: None,
        doc,
        last_modified: now,
    };
    let mut records = vec![
        (
            "currency",
            put(1, json!({ "name": "US Dollar", "symbol": "USD" })),
        ),
        (
            "currency",
            put(2, json!({ "name": "British pound", "symbol": "GBP" })),
        ),
        (
            "currency",
            put(3, json!({ "name": "Canadian Dollar", "symbol": "CAD" })),
        ),
        (
            "currency",
            put(4, json!({ "name": "Euro", "symbol": "EUR" })),
        ),
    ];
    for (i, (sku, name, price)) in crate::server::demo::DEMO_PRODUCTS.iter().enumerate() {
        let id = 10 + i as i64;
        records.push((
            "item",
            put(
                id,
                json!({ "itemId": sku, "displayName": name, "basePrice": *price as f64 / 100.0 }),
            ),
        ));
    }
    if account.one_world {
        records.push(("subsidiary", put(1, json!({ "name": "Parent Company", "currency": {"id": "1", "refName": "USD", "type": "currency"} }))));
        records.push(("subsidiary", put(2, json!({ "name": "UK Subsidiary", "currency": {"id": "2", "refName": "GBP", "type": "currency"} }))));
    }
    for (kind, r) in records {
        if store::record(c, &account.account, kind, &RecordKey::Id(r.id))
            .await?
            .is_none()
        {
            store::save(c, &account.account, kind, &r).await?;
        }
    }
    Ok(())
}
