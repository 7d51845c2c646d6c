//! The accounting rules of the emulated companies: create, read, update (full or sparse, with
//! SyncToken checks) and delete of Customer, Item, Account, Invoice and Payment, plus
//! CompanyInfo. Documents keep Intuit's JSON shapes (reference § 3); amounts are decimal
//! numbers on the wire and ten-thousandths of a unit inside (exact in every currency).

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;

use super::clock;
use super::fault::Fail;
use super::store;

/// Result of an entity operation.
pub type ApiResult<T> = Result<T, Fail>;

impl From<sqlx::Error> for Fail {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "QuickBooks sandbox storage failed");
        Fail::System
    }
}

/// The literal item reference QuickBooks accepts for a shipping line (reference § 3).
pub const SHIPPING_ITEM_ID: &str = "SHIPPING_ITEM_ID";

/// Entities the emulator keeps, by the lowercase name used in URLs.
pub fn canonical(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "customer" => "Customer",
        "item" => "Item",
        "account" => "Account",
        "invoice" => "Invoice",
        "payment" => "Payment",
        "companyinfo" => "CompanyInfo",
        "preferences" => "Preferences",
        "term" => "Term",
        _ => return None,
    })
}

pub use crate::server::erp::quickbooks::money::{from_scaled as amount, to_scaled as scaled};

pub(super) fn str_field<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn ref_value(doc: &Value, key: &str) -> Option<String> {
    let r = doc.get(key)?;
    match r.get("value") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_id(v: &str, what: &str) -> ApiResult<i64> {
    v.trim()
        .parse()
        .map_err(|_| Fail::not_found(&format!("{what} {v}")))
}

pub(super) fn sync_token(doc: &Value) -> i64 {
    match doc.get("SyncToken") {
        Some(Value::String(s)) => s.parse().unwrap_or(-1),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
        _ => -1,
    }
}

pub(super) fn meta(created: &str, now: DateTime<Utc>) -> Value {
    json!({ "CreateTime": created, "LastUpdatedTime": clock::intuit_time(now) })
}

/// Creates the standing data every company starts with: an income account, a "Sales" service
/// item and the Undeposited Funds account.
pub async fn seed_company(
    c: &mut SqliteConnection,
    realm: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let accounts = store::all(c, realm, "Account").await?;
    if accounts.is_empty() {
        let account = create(
            c,
            realm,
            "Account",
            json!({ "Name": "Sales of Product Income", "AccountType": "Income", "AccountSubType": "SalesOfProductIncome" }),
            now,
        )
        .await?;
        let account_id = account["Id"].clone();
        create(
            c,
            realm,
            "Item",
            json!({ "Name": "Sales", "Type": "Service", "IncomeAccountRef": { "value": account_id, "name": "Sales of Product Income" } }),
            now,
        )
        .await?;
    }
    // Where payments are deposited by default (companies seeded before the sandbox had it get
    // it now).
    if !accounts
        .iter()
        .any(|a| a["AccountSubType"].as_str() == Some(UNDEPOSITED_FUNDS))
    {
        create(
            c,
            realm,
            "Account",
            json!({ "Name": "Undeposited Funds", "AccountType": "Other Current Asset", "AccountSubType": UNDEPOSITED_FUNDS }),
            now,
        )
        .await?;
    }
    super::terms::seed(c, realm, now).await
}

/// The company's Undeposited Funds account (every QuickBooks company has one).
async fn undeposited_funds(c: &mut SqliteConnection, realm: &str) -> ApiResult<Value> {
    store::all(c, realm, "Account")
        .await?
        .into_iter()
        .find(|a| a["AccountSubType"].as_str() == Some(UNDEPOSITED_FUNDS))
        .ok_or_else(|| Fail::business("The company has no Undeposited Funds account."))
}

const UNDEPOSITED_FUNDS: &str = "UndepositedFunds";

/// Reads one entity; 610 when it does not exist.
pub async fn read(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    id: &str,
) -> ApiResult<Value> {
    if entity == "CompanyInfo" {
        return company_info(c, realm).await;
    }
    if entity == "Preferences" {
        return super::preferences::read(c, realm).await;
    }
    let n = parse_id(id, entity)?;
    store::get(c, realm, entity, n)
        .await?
        .ok_or_else(|| Fail::not_found(&format!("{entity} {id}")))
}

/// The company's CompanyInfo document.
pub async fn company_info(c: &mut SqliteConnection, realm: &str) -> ApiResult<Value> {
    let company = store::company(c, realm)
        .await?
        .ok_or_else(|| Fail::not_found("company"))?;
    Ok(json!({
        "CompanyName": company.name, "LegalName": company.name, "Country": "US",
        "CompanyAddr": { "Line1": "1 Sandbox Way", "City": "Mountain View", "CountrySubDivisionCode": "CA", "PostalCode": "94043" },
        "SupportedLanguages": "en", "domain": "QBO", "sparse": false, "Id": "1", "SyncToken": "0",
        "MetaData": { "CreateTime": "2026-01-01T00:00:00.000-08:00", "LastUpdatedTime": "2026-01-01T00:00:00.000-08:00" }
    }))
}

/// Creates an entity from a request body and returns the stored document.
pub async fn create(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let Value::Object(mut doc) = body else {
        return Err(Fail::business(format!(
            "The {entity} body must be a JSON object."
        )));
    };
    for key in [
        "Id",
        "SyncToken",
        "MetaData",
        "domain",
        "sparse",
        "Balance",
        "LinkedTxn",
        "status",
    ] {
        doc.remove(key);
    }
    let mut doc = Value::Object(doc);
    prepare(c, realm, entity, &mut doc, None).await?;
    let id = store::next_id(c, realm).await?;
    doc["Id"] = json!(id.to_string());
    doc["SyncToken"] = json!("0");
    doc["MetaData"] = meta(&clock::intuit_time(now), now);
    doc["domain"] = json!("QBO");
    doc["sparse"] = json!(false);
    after_create(c, realm, entity, &mut doc, now).await?;
    store::put(c, realm, entity, id, &doc, false, now).await?;
    store::queue_webhook(c, realm, entity, &id.to_string(), "Create", now).await?;
    Ok(doc)
}

/// Updates an entity: the body names `Id` and the current `SyncToken`; `sparse: true` changes
/// only the fields sent, otherwise omitted writable fields are cleared (reference § 2).
pub async fn update(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let (id_text, id, current) = current_version(c, realm, entity, &body).await?;
    if entity == "Payment" {
        for key in ["TotalAmt", "Line", "CustomerRef"] {
            if body.get(key).is_some_and(|v| Some(v) != current.get(key)) {
                return Err(Fail::business(
                    "The sandbox does not change a payment's customer, amount or lines; delete it and record a new one.",
                ));
            }
        }
    }
    let sparse = body.get("sparse").and_then(Value::as_bool).unwrap_or(false);
    let Value::Object(fields) = body else {
        return Err(Fail::business(format!(
            "The {entity} body must be a JSON object."
        )));
    };
    let read_only = [
        "Id",
        "SyncToken",
        "MetaData",
        "domain",
        "sparse",
        "Balance",
        "LinkedTxn",
        "status",
        "TotalAmt",
        "UnappliedAmt",
        "FullyQualifiedName",
    ];
    let mut merged: Map<String, Value> = if sparse {
        current.as_object().cloned().unwrap_or_default()
    } else {
        current
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| read_only.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (k, v) in fields {
        if !read_only.contains(&k.as_str()) {
            merged.insert(k, v);
        }
    }
    let mut doc = Value::Object(merged);
    prepare(c, realm, entity, &mut doc, Some(&current)).await?;
    doc["SyncToken"] = json!((sync_token(&current) + 1).to_string());
    let created = current["MetaData"]["CreateTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    doc["MetaData"] = meta(&created, now);
    doc["sparse"] = json!(false);
    store::put(c, realm, entity, id, &doc, false, now).await?;
    store::queue_webhook(c, realm, entity, &id_text, "Update", now).await?;
    Ok(doc)
}

/// The record a change names (`Id`), provided the change carries its current `SyncToken`:
/// (its id as sent, its id, the stored record). 610 when it does not exist, 5010 when stale.
pub(super) async fn current_version(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: &Value,
) -> ApiResult<(String, i64, Value)> {
    let id_text = str_field(body, "Id")
        .ok_or_else(|| Fail::required("Id"))?
        .to_string();
    let id = parse_id(&id_text, entity)?;
    if body.get("SyncToken").is_none() {
        return Err(Fail::required("SyncToken"));
    }
    let current = store::get(c, realm, entity, id)
        .await?
        .ok_or_else(|| Fail::not_found(&format!("{entity} {id_text}")))?;
    if sync_token(body) != sync_token(&current) {
        return Err(Fail::stale());
    }
    Ok((id_text, id, current))
}

/// Deletes a transaction (Invoice, Payment). Name lists (Customer, Item, Account) cannot be
/// deleted in QuickBooks, only made inactive with `Active: false`.
pub async fn delete(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    if !matches!(entity, "Invoice" | "Payment") {
        return Err(Fail::business(format!(
            "A {entity} cannot be deleted; make it inactive with Active=false."
        )));
    }
    let (id_text, id, current) = current_version(c, realm, entity, &body).await?;
    if entity == "Invoice" && !current["LinkedTxn"].as_array().is_none_or(Vec::is_empty) {
        return Err(Fail::business(
            "This invoice has payments applied; delete the payments first.",
        ));
    }
    if entity == "Payment" {
        unapply_payment(c, realm, &current, now).await?;
    }
    if entity == "Invoice" {
        release_open_balance(c, realm, &current, now).await?;
    }
    let mut doc = current.clone();
    doc["MetaData"] = meta(
        current["MetaData"]["CreateTime"]
            .as_str()
            .unwrap_or_default(),
        now,
    );
    store::put(c, realm, entity, id, &doc, true, now).await?;
    store::queue_webhook(c, realm, entity, &id_text, "Delete", now).await?;
    Ok(json!({ "status": "Deleted", "domain": "QBO", "Id": id_text }))
}

/// An invoice that stops counting (deleted or voided): its open balance leaves its customer's.
pub(super) async fn release_open_balance(
    c: &mut SqliteConnection,
    realm: &str,
    invoice: &Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let balance = scaled(invoice.get("Balance")).unwrap_or(0);
    let customer = ref_value(invoice, "CustomerRef");
    adjust_customer_balance(c, realm, customer.as_deref(), -balance, now).await
}

/// Another user saves the record named by `body.Id` without changing it: its SyncToken moves on
/// (fault injection for the 5010 path).
pub async fn touch(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    body: &Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(id) = str_field(body, "Id").and_then(|s| s.parse::<i64>().ok()) else {
        return Ok(());
    };
    let Some(mut doc) = store::get(c, realm, entity, id).await? else {
        return Ok(());
    };
    doc["SyncToken"] = json!((sync_token(&doc) + 1).to_string());
    let created = doc["MetaData"]["CreateTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    doc["MetaData"] = meta(&created, now);
    store::put(c, realm, entity, id, &doc, false, now).await?;
    Ok(())
}

/// The shape a deleted entity has in CDC results.
pub fn deleted_shape(doc: &Value) -> Value {
    json!({ "Id": doc["Id"], "status": "Deleted", "domain": "QBO", "MetaData": doc["MetaData"] })
}

/// Validates and completes a document before it is stored (`current` on update).
async fn prepare(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    doc: &mut Value,
    current: Option<&Value>,
) -> ApiResult<()> {
    let self_id = current.and_then(|v| v["Id"].as_str()).map(str::to_string);
    match entity {
        "Customer" => prepare_customer(c, realm, doc, current).await,
        "Term" => {
            super::terms::prepare(doc)?;
            unique_name(
                c,
                realm,
                "Term",
                str_field(doc, "Name").unwrap_or_default(),
                self_id.as_deref(),
            )
            .await
        }
        "Item" => prepare_item(c, realm, doc, self_id.as_deref()).await,
        "Account" => prepare_account(c, realm, doc, self_id.as_deref()).await,
        "Invoice" => prepare_invoice(c, realm, doc, current).await,
        "Payment" => {
            if current.is_none() {
                prepare_payment(c, realm, doc).await
            } else {
                Ok(())
            }
        }
        "CompanyInfo" => Err(Fail::business("CompanyInfo is read-only in the sandbox.")),
        _ => Err(Fail::business(format!("Unsupported entity {entity}."))),
    }
}

async fn unique_name(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    name: &str,
    self_id: Option<&str>,
) -> ApiResult<()> {
    let clash = store::by_name(c, realm, entity, name)
        .await?
        .into_iter()
        .any(|d| d["Id"].as_str() != self_id);
    if clash {
        return Err(Fail::duplicate_name(name));
    }
    Ok(())
}

async fn prepare_customer(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    current: Option<&Value>,
) -> ApiResult<()> {
    let self_id = current.and_then(|v| v["Id"].as_str());
    let display = match str_field(doc, "DisplayName") {
        Some(n) => n.to_string(),
        None => {
            let given = [str_field(doc, "GivenName"), str_field(doc, "FamilyName")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !given.is_empty() {
                given
            } else if let Some(company) = str_field(doc, "CompanyName") {
                company.to_string()
            } else {
                return Err(Fail::required("DisplayName"));
            }
        }
    };
    if display.chars().count() > 500 {
        return Err(Fail::validation(
            "2050",
            "String length is either shorter or longer than supported by specification",
            "DisplayName is longer than 500 characters",
        ));
    }
    unique_name(c, realm, "Customer", &display, self_id).await?;
    doc["DisplayName"] = json!(display);
    doc["FullyQualifiedName"] = json!(display);
    if doc.get("PrintOnCheckName").is_none() {
        doc["PrintOnCheckName"] = json!(str_field(doc, "CompanyName")
            .unwrap_or(&display)
            .to_string());
    }
    if doc.get("Active").is_none() {
        doc["Active"] = json!(true);
    }
    if self_id.is_none() {
        doc["Balance"] = json!(0);
        doc["BalanceWithJobs"] = json!(0);
    }
    super::address::complete(c, realm, doc, current).await
}

/// What QuickBooks fills in on a name-list entry (account, item).
fn list_defaults(doc: &mut Value, name: &str) {
    doc["FullyQualifiedName"] = json!(name);
    if doc.get("Active").is_none() {
        doc["Active"] = json!(true);
    }
}

async fn prepare_account(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    self_id: Option<&str>,
) -> ApiResult<()> {
    let name = str_field(doc, "Name")
        .ok_or_else(|| Fail::required("Name"))?
        .to_string();
    if str_field(doc, "AccountType").is_none() {
        return Err(Fail::required("AccountType"));
    }
    unique_name(c, realm, "Account", &name, self_id).await?;
    list_defaults(doc, &name);
    Ok(())
}

async fn prepare_item(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    self_id: Option<&str>,
) -> ApiResult<()> {
    let name = str_field(doc, "Name")
        .ok_or_else(|| Fail::required("Name"))?
        .to_string();
    if name.contains(':') {
        return Err(Fail::business("An item name cannot contain a colon (:)."));
    }
    unique_name(c, realm, "Item", &name, self_id).await?;
    let kind = str_field(doc, "Type").unwrap_or("Service").to_string();
    if !matches!(
        kind.as_str(),
        "Service" | "NonInventory" | "Inventory" | "Category"
    ) {
        return Err(Fail::business(format!("Unknown item type {kind}.")));
    }
    if matches!(kind.as_str(), "Service" | "NonInventory" | "Inventory") {
        let account =
            ref_value(doc, "IncomeAccountRef").ok_or_else(|| Fail::required("IncomeAccountRef"))?;
        let id = parse_id(&account, "Account")?;
        let acc = store::get(c, realm, "Account", id)
            .await?
            .ok_or_else(|| Fail::not_found(&format!("Account {account}")))?;
        doc["IncomeAccountRef"] = json!({ "value": account, "name": acc["Name"] });
    }
    if kind == "Inventory" {
        for key in [
            "ExpenseAccountRef",
            "AssetAccountRef",
            "QtyOnHand",
            "InvStartDate",
        ] {
            if doc.get(key).is_none() {
                return Err(Fail::required(key));
            }
        }
    }
    doc["Type"] = json!(kind);
    list_defaults(doc, &name);
    Ok(())
}

async fn customer_ref(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &Value,
) -> ApiResult<(String, Value)> {
    let id = ref_value(doc, "CustomerRef").ok_or_else(|| Fail::required("CustomerRef"))?;
    let n = parse_id(&id, "Customer")?;
    let customer = store::get(c, realm, "Customer", n)
        .await?
        .filter(|c| c["Active"].as_bool() != Some(false))
        .ok_or_else(|| Fail::not_found(&format!("Customer {id}")))?;
    Ok((id, customer))
}

async fn prepare_invoice(
    c: &mut SqliteConnection,
    realm: &str,
    doc: &mut Value,
    current: Option<&Value>,
) -> ApiResult<()> {
    super::preferences::check_transaction(c, realm, "Invoice", doc).await?;
    let (customer_id, customer) = customer_ref(c, realm, doc).await?;
    doc["CustomerRef"] = json!({ "value": customer_id, "name": customer["DisplayName"] });
    let lines_in = doc
        .get("Line")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut lines = Vec::new();
    let mut total = 0i64;
    // A line sent with the Id of one of the invoice's lines keeps it; any other line gets a new
    // one, as QuickBooks gives replaced lines new ids (reference § 9).
    let kept: Vec<String> = current
        .and_then(|cur| cur["Line"].as_array())
        .map(|l| {
            l.iter()
                .filter_map(|x| x["Id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut next_line_id = kept
        .iter()
        .filter_map(|id| id.parse::<i64>().ok())
        .max()
        .unwrap_or(0);
    for line in lines_in {
        let detail_type = line["DetailType"].as_str().unwrap_or_default().to_string();
        if detail_type == "SubTotalLineDetail" {
            continue; // computed by QuickBooks
        }
        let mut line = line;
        let line_amount =
            scaled(line.get("Amount")).ok_or_else(|| Fail::required("Line.Amount"))?;
        if line_amount < 0 {
            return Err(Fail::business("A line amount cannot be negative."));
        }
        match detail_type.as_str() {
            "SalesItemLineDetail" => {
                let detail = &line["SalesItemLineDetail"];
                let item = ref_value(detail, "ItemRef")
                    .ok_or_else(|| Fail::required("SalesItemLineDetail.ItemRef"))?;
                let item_name = if item == SHIPPING_ITEM_ID {
                    json!("Shipping")
                } else {
                    let n = parse_id(&item, "Item")?;
                    let found = store::get(c, realm, "Item", n)
                        .await?
                        .filter(|i| i["Active"].as_bool() != Some(false))
                        .ok_or_else(|| Fail::not_found(&format!("Item {item}")))?;
                    found["Name"].clone()
                };
                if let (Some(qty), Some(price)) =
                    (detail["Qty"].as_f64(), detail["UnitPrice"].as_f64())
                {
                    // [UNCONFIRMED] whether QuickBooks rejects Amount ≠ Qty × UnitPrice; the
                    // sandbox does, so a connector that sends inconsistent lines finds out.
                    let expected = scaled(Some(&json!(qty * price))).unwrap_or_default();
                    if expected != line_amount {
                        return Err(Fail::validation(
                            "6070",
                            "Amount is not equal to UnitPrice * Qty",
                            format!(
                                "Amount is not equal to UnitPrice * Qty. Supplied value:{}",
                                amount(line_amount)
                            ),
                        ));
                    }
                }
                line["SalesItemLineDetail"]["ItemRef"] =
                    json!({ "value": item, "name": item_name });
            }
            "DescriptionOnly" => {}
            other => {
                return Err(Fail::business(format!(
                    "Unsupported line DetailType {other:?}."
                )));
            }
        }
        total += line_amount;
        let n = lines.len() + 1;
        let keeps = line["Id"]
            .as_str()
            .is_some_and(|id| kept.iter().any(|k| k == id));
        if !keeps {
            next_line_id += 1;
            line["Id"] = json!(next_line_id.to_string());
        }
        line["LineNum"] = json!(n);
        line["Amount"] = amount(line_amount);
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(Fail::required("Line"));
    }
    lines.push(json!({ "DetailType": "SubTotalLineDetail", "Amount": amount(total), "SubTotalLineDetail": {} }));
    let paid = current
        .map(|cur| {
            scaled(cur.get("TotalAmt")).unwrap_or(0) - scaled(cur.get("Balance")).unwrap_or(0)
        })
        .unwrap_or(0);
    if total < paid {
        return Err(Fail::business(
            "The invoice total cannot drop below the payments applied to it.",
        ));
    }
    doc["Line"] = json!(lines);
    doc["TotalAmt"] = amount(total);
    doc["Balance"] = amount(total - paid);
    if doc.get("LinkedTxn").is_none() {
        doc["LinkedTxn"] = json!([]);
    }
    let today = clock::now().format("%Y-%m-%d").to_string();
    let txn_date = str_field(doc, "TxnDate").unwrap_or(&today).to_string();
    let txn_day = super::preferences::parse_date(&txn_date, "TxnDate")?;
    doc["TxnDate"] = json!(txn_day.format("%Y-%m-%d").to_string());
    super::terms::due_date(c, realm, doc, &customer, txn_day).await?;
    if str_field(doc, "DocNumber").is_none() {
        doc["DocNumber"] = json!(store::next_doc_number(c, realm).await?.to_string());
    }
    if doc["DocNumber"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 21)
    {
        return Err(Fail::validation(
            "2050",
            "String length is either shorter or longer than supported by specification",
            "DocNumber is longer than 21 characters",
        ));
    }
    for addr in ["BillAddr", "ShipAddr"] {
        if doc.get(addr).is_none() {
            if let Some(a) = customer.get(addr) {
                doc[addr] = a.clone();
            }
        }
    }
    super::address::complete(c, realm, doc, current).await?;
    for (key, default) in [
        ("EmailStatus", json!("NotSet")),
        ("PrintStatus", json!("NeedToPrint")),
        ("Deposit", json!(0)),
        ("TxnTaxDetail", json!({ "TotalTax": 0 })),
        ("ApplyTaxAfterDiscount", json!(false)),
    ] {
        if doc.get(key).is_none() {
            doc[key] = default;
        }
    }
    if let Some(cur) = current {
        let delta = total - scaled(cur.get("TotalAmt")).unwrap_or(0);
        adjust_customer_balance(c, realm, Some(&customer_id), delta, clock::now()).await?;
    }
    Ok(())
}

async fn prepare_payment(c: &mut SqliteConnection, realm: &str, doc: &mut Value) -> ApiResult<()> {
    super::preferences::check_transaction(c, realm, "Payment", doc).await?;
    let (customer_id, customer) = customer_ref(c, realm, doc).await?;
    doc["CustomerRef"] = json!({ "value": customer_id, "name": customer["DisplayName"] });
    let total = scaled(doc.get("TotalAmt")).ok_or_else(|| Fail::required("TotalAmt"))?;
    if total < 0 {
        return Err(Fail::business("A payment amount cannot be negative."));
    }
    let mut applied = 0;
    let mut lines = doc
        .get("Line")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for line in &mut lines {
        let line_amount =
            scaled(line.get("Amount")).ok_or_else(|| Fail::required("Line.Amount"))?;
        let links = line["LinkedTxn"].as_array().cloned().unwrap_or_default();
        for link in &links {
            if link["TxnType"].as_str() != Some("Invoice") {
                return Err(Fail::business(
                    "The sandbox applies payments to invoices only.",
                ));
            }
            let txn = link["TxnId"].as_str().unwrap_or_default();
            let invoice = store::get(c, realm, "Invoice", parse_id(txn, "Invoice")?)
                .await?
                .ok_or_else(|| Fail::not_found(&format!("Invoice {txn}")))?;
            if ref_value(&invoice, "CustomerRef").as_deref() != Some(customer_id.as_str()) {
                return Err(Fail::business(format!(
                    "Invoice {txn} belongs to another customer."
                )));
            }
            let balance = scaled(invoice.get("Balance")).unwrap_or(0);
            if line_amount > balance {
                return Err(Fail::business(format!(
                    "The amount applied to invoice {txn} ({}) exceeds its balance ({}).",
                    amount(line_amount),
                    amount(balance)
                )));
            }
            line["LineEx"] = json!({ "any": [
                { "name": "{http://schema.intuit.com/finance/v3}NameValue", "declaredType": "com.intuit.schema.finance.v3.NameValue", "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": { "Name": "txnId", "Value": txn }, "nil": false, "globalScope": true, "typeSubstituted": false },
                { "name": "{http://schema.intuit.com/finance/v3}NameValue", "declaredType": "com.intuit.schema.finance.v3.NameValue", "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": { "Name": "txnOpenBalance", "Value": amount(balance).to_string() }, "nil": false, "globalScope": true, "typeSubstituted": false },
                { "name": "{http://schema.intuit.com/finance/v3}NameValue", "declaredType": "com.intuit.schema.finance.v3.NameValue", "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": { "Name": "txnReferenceNumber", "Value": invoice["DocNumber"] }, "nil": false, "globalScope": true, "typeSubstituted": false }
            ]});
        }
        if links.len() > 1 {
            return Err(Fail::business(
                "The sandbox links each payment line to one invoice.",
            ));
        }
        line["Amount"] = amount(line_amount);
        applied += line_amount;
    }
    if applied > total {
        return Err(Fail::business(
            "The amounts applied exceed the payment's total.",
        ));
    }
    doc["Line"] = json!(lines);
    doc["TotalAmt"] = amount(total);
    doc["UnappliedAmt"] = amount(total - applied);
    // Where the money is deposited: the account named, which must exist; by default the
    // company's Undeposited Funds (reference § 3: Payment).
    match ref_value(doc, "DepositToAccountRef") {
        Some(id) => {
            store::get(c, realm, "Account", parse_id(&id, "Account")?)
                .await?
                .ok_or_else(|| Fail::not_found(&format!("Account {id}")))?;
        }
        None => {
            let udf = undeposited_funds(c, realm).await?;
            doc["DepositToAccountRef"] = json!({ "value": udf["Id"], "name": udf["Name"] });
        }
    }
    doc["ProcessPayment"] = json!(false);
    let day = match str_field(doc, "TxnDate") {
        Some(sent) => super::preferences::parse_date(sent, "TxnDate")?,
        None => clock::now().date_naive(),
    };
    doc["TxnDate"] = json!(day.format("%Y-%m-%d").to_string());
    Ok(())
}

/// Effects of a new entity on others: a new invoice raises its customer's balance; a payment
/// lowers the balances of the invoices it is applied to and links them.
async fn after_create(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    doc: &mut Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    match entity {
        "Invoice" => {
            let total = scaled(doc.get("TotalAmt")).unwrap_or(0);
            adjust_customer_balance(
                c,
                realm,
                ref_value(doc, "CustomerRef").as_deref(),
                total,
                now,
            )
            .await
        }
        "Payment" => {
            let payment_id = doc["Id"].as_str().unwrap_or_default().to_string();
            let mut applied = 0;
            for line in doc["Line"].as_array().cloned().unwrap_or_default() {
                let amt = scaled(line.get("Amount")).unwrap_or(0);
                for link in line["LinkedTxn"].as_array().cloned().unwrap_or_default() {
                    let txn = link["TxnId"].as_str().unwrap_or_default();
                    apply_to_invoice(c, realm, txn, &payment_id, -amt, now).await?;
                    applied += amt;
                }
            }
            adjust_customer_balance(
                c,
                realm,
                ref_value(doc, "CustomerRef").as_deref(),
                -applied,
                now,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// Changes an invoice's balance by `delta` (ten-thousandths) and links (delta < 0) or unlinks the payment.
async fn apply_to_invoice(
    c: &mut SqliteConnection,
    realm: &str,
    invoice_id: &str,
    payment_id: &str,
    delta: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let id = parse_id(invoice_id, "Invoice")?;
    let Some(mut invoice) = store::get(c, realm, "Invoice", id).await? else {
        return Ok(()); // deleted since; nothing to adjust
    };
    let balance = scaled(invoice.get("Balance")).unwrap_or(0) + delta;
    invoice["Balance"] = amount(balance);
    let mut links = invoice["LinkedTxn"].as_array().cloned().unwrap_or_default();
    if delta < 0 {
        links.push(json!({ "TxnId": payment_id, "TxnType": "Payment" }));
    } else {
        links.retain(|l| l["TxnId"].as_str() != Some(payment_id));
    }
    invoice["LinkedTxn"] = json!(links);
    invoice["SyncToken"] = json!((sync_token(&invoice) + 1).to_string());
    let created = invoice["MetaData"]["CreateTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    invoice["MetaData"] = meta(&created, now);
    store::put(c, realm, "Invoice", id, &invoice, false, now).await?;
    store::queue_webhook(c, realm, "Invoice", invoice_id, "Update", now).await?;
    Ok(())
}

pub(super) async fn unapply_payment(
    c: &mut SqliteConnection,
    realm: &str,
    payment: &Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let payment_id = payment["Id"].as_str().unwrap_or_default();
    let mut applied = 0;
    for line in payment["Line"].as_array().cloned().unwrap_or_default() {
        let amt = scaled(line.get("Amount")).unwrap_or(0);
        for link in line["LinkedTxn"].as_array().cloned().unwrap_or_default() {
            apply_to_invoice(
                c,
                realm,
                link["TxnId"].as_str().unwrap_or_default(),
                payment_id,
                amt,
                now,
            )
            .await?;
            applied += amt;
        }
    }
    adjust_customer_balance(
        c,
        realm,
        ref_value(payment, "CustomerRef").as_deref(),
        applied,
        now,
    )
    .await
}

/// Open balance bookkeeping on the customer (not a user change: SyncToken stays).
async fn adjust_customer_balance(
    c: &mut SqliteConnection,
    realm: &str,
    customer_id: Option<&str>,
    delta: i64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(id) = customer_id.and_then(|s| s.parse::<i64>().ok()) else {
        return Ok(());
    };
    if delta == 0 {
        return Ok(());
    }
    let Some(mut customer) = store::get(c, realm, "Customer", id).await? else {
        return Ok(());
    };
    let balance = scaled(customer.get("Balance")).unwrap_or(0) + delta;
    customer["Balance"] = amount(balance);
    customer["BalanceWithJobs"] = amount(balance);
    store::put(c, realm, "Customer", id, &customer, false, now).await?;
    Ok(())
}
