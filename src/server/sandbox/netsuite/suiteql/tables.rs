//! The SuiteQL tables the sandbox answers, built from its stored records: `customer`,
//! `transaction` (sales orders `SalesOrd`, invoices `CustInvc`, customer payments `CustPymt`),
//! `transactionline` (the item lines of orders and invoices; an invoice's lines name the order
//! they were made from in `createdfrom`), `item`, `subsidiary`,
//! `currency` and `deletedrecord`. Column names are NetSuite's, lowercase; booleans are `T`/`F`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::BTreeMap;

use super::super::store::{self, DbResult};

/// A SuiteQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// NULL (omitted from answers).
    Null,
    /// Text.
    Str(String),
    /// A number.
    Num(f64),
    /// A date and time (UTC; the sandbox's account time zone is UTC).
    Time(DateTime<Utc>),
    /// A plain date.
    Date(NaiveDate),
}

/// One row: column → value.
pub type Row = BTreeMap<String, V>;

/// Every row of `table` in `account`, or None for a table the sandbox does not have.
pub async fn rows(
    c: &mut SqliteConnection,
    account: &str,
    table: &str,
) -> DbResult<Option<Vec<Row>>> {
    let kinds: &[&str] = match table {
        "customer" => &["customer"],
        "transaction" => &["salesOrder", "invoice", "customerPayment"],
        "transactionline" => &["salesOrder", "invoice"],
        "item" => &["item"],
        "subsidiary" => &["subsidiary"],
        "currency" => &["currency"],
        "deletedrecord" => return deleted(c, account).await.map(Some),
        _ => return Ok(None),
    };
    let mut out = Vec::new();
    for kind in kinds {
        for r in store::all_records(c, account, kind).await? {
            if table == "transactionline" {
                out.extend(lines(&r));
                continue;
            }
            let mut row = Row::new();
            row.insert("id".into(), V::Num(r.id as f64));
            row.insert(
                "externalid".into(),
                r.external_id.clone().map_or(V::Null, V::Str),
            );
            row.insert("lastmodifieddate".into(), V::Time(r.last_modified));
            match table {
                "customer" => customer(&mut row, &r.doc),
                "transaction" => transaction(&mut row, kind, &r.doc),
                "item" => {
                    text(&mut row, "itemid", &r.doc, "itemId");
                    text(&mut row, "displayname", &r.doc, "displayName");
                    number(&mut row, "baseprice", &r.doc, "basePrice");
                }
                "currency" => {
                    text(&mut row, "name", &r.doc, "name");
                    text(&mut row, "symbol", &r.doc, "symbol");
                }
                _ => {
                    text(&mut row, "name", &r.doc, "name");
                    reference(&mut row, "currency", &r.doc, "currency");
                }
            }
            out.push(row);
        }
    }
    Ok(Some(out))
}

fn customer(row: &mut Row, doc: &Value) {
    text(row, "entityid", doc, "entityId");
    text(row, "companyname", doc, "companyName");
    text(row, "firstname", doc, "firstName");
    text(row, "lastname", doc, "lastName");
    text(row, "email", doc, "email");
    text(row, "phone", doc, "phone");
    flag(row, "isperson", doc, "isPerson");
    flag(row, "isinactive", doc, "isInactive");
    reference(row, "subsidiary", doc, "subsidiary");
    reference(row, "currency", doc, "currency");
    time(row, "datecreated", doc, "dateCreated");
}

fn transaction(row: &mut Row, kind: &str, doc: &Value) {
    let code = match kind {
        "invoice" => "CustInvc",
        "customerPayment" => "CustPymt",
        _ => "SalesOrd",
    };
    row.insert("type".into(), V::Str(code.into()));
    row.insert("recordtype".into(), V::Str(kind.to_lowercase()));
    text(row, "tranid", doc, "tranId");
    text(row, "otherrefnum", doc, "otherRefNum");
    text(row, "memo", doc, "memo");
    reference(row, "entity", doc, "entity");
    reference(row, "subsidiary", doc, "subsidiary");
    reference(row, "currency", doc, "currency");
    reference(row, "entity", doc, "customer");
    number(row, "foreigntotal", doc, "total");
    number(row, "foreignamountremaining", doc, "amountRemaining");
    number(row, "shippingcost", doc, "shippingCost");
    time(row, "createddate", doc, "dateCreated");
    if let Some(d) = doc
        .get("tranDate")
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    {
        row.insert("trandate".into(), V::Date(d));
    }
    if let Some(s) = doc
        .get("status")
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
    {
        row.insert("status".into(), V::Str(s.to_string()));
    }
}

fn lines(r: &store::Record) -> Vec<Row> {
    let Some(Value::Array(lines)) = r.doc.get("item") else {
        return Vec::new();
    };
    lines
        .iter()
        .map(|line| {
            let mut row = Row::new();
            row.insert("transaction".into(), V::Num(r.id as f64));
            reference(&mut row, "createdfrom", &r.doc, "createdFrom");
            number(&mut row, "linesequencenumber", line, "line");
            number(&mut row, "id", line, "line");
            reference(&mut row, "item", line, "item");
            number(&mut row, "quantity", line, "quantity");
            number(&mut row, "rate", line, "rate");
            number(&mut row, "netamount", line, "amount");
            text(&mut row, "memo", line, "description");
            row.insert("linelastmodifieddate".into(), V::Time(r.last_modified));
            row
        })
        .collect()
}

async fn deleted(c: &mut SqliteConnection, account: &str) -> DbResult<Vec<Row>> {
    Ok(store::deleted_records(c, account)
        .await?
        .into_iter()
        .map(|d| {
            let mut row = Row::new();
            row.insert("recordid".into(), V::Num(d.id as f64));
            // SuiteQL names record types in lowercase.
            row.insert("type".into(), V::Str(d.kind.to_lowercase()));
            row.insert("externalid".into(), d.external_id.map_or(V::Null, V::Str));
            row.insert("deleteddate".into(), V::Time(d.deleted_at));
            row
        })
        .collect())
}

fn text(row: &mut Row, col: &str, doc: &Value, field: &str) {
    if let Some(s) = doc.get(field).and_then(Value::as_str) {
        row.insert(col.into(), V::Str(s.to_string()));
    }
}

fn number(row: &mut Row, col: &str, doc: &Value, field: &str) {
    if let Some(n) = doc.get(field).and_then(Value::as_f64) {
        row.insert(col.into(), V::Num(n));
    }
}

fn flag(row: &mut Row, col: &str, doc: &Value, field: &str) {
    if let Some(b) = doc.get(field).and_then(Value::as_bool) {
        row.insert(col.into(), V::Str(if b { "T" } else { "F" }.into()));
    }
}

fn reference(row: &mut Row, col: &str, doc: &Value, field: &str) {
    if let Some(id) = doc
        .get(field)
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<f64>().ok())
    {
        row.insert(col.into(), V::Num(id));
    }
}

fn time(row: &mut Row, col: &str, doc: &Value, field: &str) {
    if let Some(t) = doc
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    {
        row.insert(col.into(), V::Time(t.with_timezone(&Utc)));
    }
}
