//! The record types the sandbox serves and their fields, and how a request body becomes a
//! stored record: field names matched without regard to case (Oracle's own examples write
//! `entityid` and read back `entityId`), references resolved, lengths and types checked, each
//! refusal an `INVALID_CONTENT` naming the field's path as NetSuite does (`item.items[0].item`).
//! Unknown fields are ignored with a warning, NetSuite's default
//! (`X-NetSuite-PropertyNameValidation: warning`); `error` refuses them.

use serde_json::{json, Map, Value};

use super::fault::Fail;

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Free text up to this many characters.
    Text(usize),
    /// true / false.
    Bool,
    /// A number (amounts, quantities).
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// A reference to a record of this type: `{"id": "7"}` (or `{"externalId": "…"}`).
    Ref(&'static str),
}

/// One writable field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Its name as NetSuite writes it.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// A record type.
#[derive(Debug)]
pub struct RecordType {
    /// Its name in URLs (`salesOrder`).
    pub name: &'static str,
    /// Body fields a client may write.
    pub fields: &'static [Field],
    /// Its line sublist, if any: (name, line fields).
    pub sublist: Option<(&'static str, &'static [Field])>,
    /// Whether clients may create and change it through the record API.
    pub writable: bool,
}

/// Customers (reference § 3; the fields our connector and Oracle's examples use).
pub const CUSTOMER: RecordType = RecordType {
    name: "customer",
    fields: &[
        f("entityId", Kind::Text(83)),
        f("companyName", Kind::Text(83)),
        f("isPerson", Kind::Bool),
        f("firstName", Kind::Text(32)),
        f("lastName", Kind::Text(32)),
        f("email", Kind::Text(254)),
        f("phone", Kind::Text(32)),
        f("comments", Kind::Text(999)),
        f("isInactive", Kind::Bool),
        f("subsidiary", Kind::Ref("subsidiary")),
        f("currency", Kind::Ref("currency")),
    ],
    sublist: None,
    writable: true,
};

/// Sales orders with their `item` sublist; shipping is the body field `shippingCost`.
pub const SALES_ORDER: RecordType = RecordType {
    name: "salesOrder",
    fields: &[
        f("entity", Kind::Ref("customer")),
        f("tranId", Kind::Text(45)),
        f("tranDate", Kind::Date),
        f("otherRefNum", Kind::Text(45)),
        f("memo", Kind::Text(999)),
        f("subsidiary", Kind::Ref("subsidiary")),
        f("currency", Kind::Ref("currency")),
        f("shippingCost", Kind::Number),
    ],
    sublist: Some((
        "item",
        &[
            f("item", Kind::Ref("item")),
            f("quantity", Kind::Number),
            f("rate", Kind::Number),
            f("amount", Kind::Number),
            f("description", Kind::Text(999)),
        ],
    )),
    writable: true,
};

/// Items, subsidiaries and currencies: seeded, read through the API and SuiteQL.
pub const ITEM: RecordType = RecordType {
    name: "item",
    fields: &[],
    sublist: None,
    writable: false,
};
/// OneWorld subsidiaries.
pub const SUBSIDIARY: RecordType = RecordType {
    name: "subsidiary",
    fields: &[],
    sublist: None,
    writable: false,
};
/// Currencies.
pub const CURRENCY: RecordType = RecordType {
    name: "currency",
    fields: &[],
    sublist: None,
    writable: false,
};

/// Invoices: made from sales orders (`!transform/invoice`, the sandbox page), read through the
/// API and SuiteQL.
pub const INVOICE: RecordType = RecordType {
    name: "invoice",
    fields: &[],
    sublist: Some(("item", &[])),
    writable: false,
};
/// Customer payments, with the `apply` sublist naming the invoices they pay (recorded on the
/// sandbox page).
pub const CUSTOMER_PAYMENT: RecordType = RecordType {
    name: "customerPayment",
    fields: &[],
    sublist: Some(("apply", &[])),
    writable: false,
};

/// The record type named in a URL, matched as NetSuite does (case-insensitively; REST names
/// are camelCase: reference § 6.8).
pub fn record_type(name: &str) -> Option<&'static RecordType> {
    [
        &CUSTOMER,
        &SALES_ORDER,
        &INVOICE,
        &CUSTOMER_PAYMENT,
        &ITEM,
        &SUBSIDIARY,
        &CURRENCY,
    ]
    .into_iter()
    .find(|t| t.name.eq_ignore_ascii_case(name))
}

/// A body field's value after checking: references still to resolve.
#[derive(Clone, Debug, PartialEq)]
pub enum Checked {
    /// A value to store as is.
    Value(Value),
    /// A reference: by internal id or by external id.
    Ref {
        target: &'static str,
        id: Option<i64>,
        external_id: Option<String>,
    },
    /// `null`: remove the field.
    Clear,
}

/// One checked body, field by canonical name; `lines` for the sublist, if given.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// Body fields.
    pub fields: Vec<(&'static str, Checked)>,
    /// `externalId`, if given.
    pub external_id: Option<String>,
    /// The sublist's lines, if the body has the sublist: (line number if given, fields).
    pub lines: Option<Lines>,
    /// Names of fields ignored (returned as a warning).
    pub ignored: Vec<String>,
}

/// Reads a request body for `t`. `strict`: unknown field names are refused, not ignored.
pub fn read_body(t: &RecordType, body: &Value, strict: bool) -> Result<Body, Fail> {
    let Value::Object(obj) = body else {
        return Err(Fail::InvalidRequest(
            "The request could not be understood by the server due to malformed syntax.".into(),
        ));
    };
    let mut out = Body::default();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("externalId") {
            out.external_id = Some(external_id(value, "externalId")?);
            continue;
        }
        if key == "links" || key.eq_ignore_ascii_case("id") {
            continue;
        }
        if let Some((name, line_fields)) = t.sublist.filter(|(n, _)| n.eq_ignore_ascii_case(key)) {
            out.lines = Some(read_lines(name, line_fields, value, strict)?);
            continue;
        }
        match t.fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)) {
            Some(field) => out
                .fields
                .push((field.name, check(field, value, field.name)?)),
            None if strict => {
                return Err(Fail::InvalidContent {
                    detail: format!("Invalid field name {key}."),
                    path: key.clone(),
                })
            }
            None => out.ignored.push(key.clone()),
        }
    }
    Ok(out)
}

/// Sublist lines as sent: each its `line` key, if given, and its checked fields.
pub type Lines = Vec<(Option<i64>, Vec<(&'static str, Checked)>)>;

fn read_lines(
    name: &str,
    fields: &'static [Field],
    value: &Value,
    strict: bool,
) -> Result<Lines, Fail> {
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| Fail::InvalidContent {
            detail: format!("The sublist {name} must be written as {{\"items\": [...]}}."),
            path: name.to_string(),
        })?;
    let mut lines = Vec::new();
    for (i, line) in items.iter().enumerate() {
        let Value::Object(obj) = line else {
            return Err(Fail::InvalidContent {
                detail: "A sublist line must be an object.".into(),
                path: format!("{name}.items[{i}]"),
            });
        };
        let mut number = None;
        let mut checked = Vec::new();
        for (key, value) in obj {
            let path = format!("{name}.items[{i}].{key}");
            if key.eq_ignore_ascii_case("line") {
                number = Some(integer(value).ok_or_else(|| invalid(value, &path))?);
                continue;
            }
            match fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)) {
                Some(field) => checked.push((field.name, check(field, value, &path)?)),
                None if strict => {
                    return Err(Fail::InvalidContent {
                        detail: format!("Invalid field name {key}."),
                        path,
                    })
                }
                None => {}
            }
        }
        lines.push((number, checked));
    }
    Ok(lines)
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// NetSuite's wording for a value a field cannot take.
fn invalid(value: &Value, path: &str) -> Fail {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let field = path.rsplit('.').next().unwrap_or(path);
    Fail::InvalidContent {
        detail: format!(
            "Error while accessing resource: You have entered an Invalid Field Value {shown} for the following field: {field}"
        ),
        path: path.to_string(),
    }
}

fn external_id(value: &Value, path: &str) -> Result<String, Fail> {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid(value, path)),
    };
    valid_external_id(&s)
        .then_some(s.clone())
        .ok_or_else(|| invalid(&Value::String(s), path))
}

/// External ids: letters, digits, `_` and `-` (reference § 3; `|` breaks `eid:` parsing).
pub fn valid_external_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check(field: &Field, value: &Value, path: &str) -> Result<Checked, Fail> {
    if value.is_null() {
        return Ok(Checked::Clear);
    }
    let ok = |v: Value| Ok(Checked::Value(v));
    match field.kind {
        Kind::Text(max) => match value {
            Value::String(s) if s.chars().count() <= max => ok(json!(s)),
            Value::String(_) => Err(Fail::InvalidContent {
                detail: format!(
                    "Error while accessing resource: The field {} contained more than the maximum number ( {max} ) of characters allowed.",
                    field.name
                ),
                path: path.to_string(),
            }),
            Value::Number(n) => ok(json!(n.to_string())),
            _ => Err(invalid(value, path)),
        },
        Kind::Bool => match value {
            Value::Bool(b) => ok(json!(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                ok(json!(s.eq_ignore_ascii_case("true")))
            }
            _ => Err(invalid(value, path)),
        },
        Kind::Number => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match n.filter(|n| n.is_finite()) {
                Some(n) => ok(json!(n)),
                None => Err(invalid(value, path)),
            }
        }
        Kind::Date => match value.as_str().map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
            Some(Ok(d)) => ok(json!(d.format("%Y-%m-%d").to_string())),
            _ => Err(invalid(value, path)),
        },
        Kind::Ref(target) => {
            let id = value.get("id").and_then(integer);
            let external_id = value.get("externalId").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if id.is_none() && external_id.is_none() {
                return Err(invalid(value, path));
            }
            Ok(Checked::Ref {
                target,
                id,
                external_id,
            })
        }
    }
}

/// Applies checked fields to a stored document (`null` removes a field).
pub fn apply(doc: &mut Map<String, Value>, fields: Vec<(&'static str, Value)>) {
    for (name, value) in fields {
        if value.is_null() {
            doc.remove(name);
        } else {
            doc.insert(name.to_string(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_without_regard_to_case_and_unknown_ones_are_ignored() {
        let body = json!({"entityid": "New Customer", "COMPANYNAME": "My Company", "subsidiary": {"id": "1"}, "shoeSize": 9});
        let b = read_body(&CUSTOMER, &body, false).expect("read");
        let names: Vec<_> = b.fields.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"entityId") && names.contains(&"companyName"));
        assert_eq!(b.ignored, vec!["shoeSize".to_string()]);
        assert!(
            read_body(&CUSTOMER, &body, true).is_err(),
            "strict refuses it"
        );
    }

    #[test]
    fn a_bad_line_value_names_its_path_as_netsuite_does() {
        let body = json!({"entity": {"id": 107}, "item": {"items": [{"item": {"name": "x"}, "amount": 1}]}});
        match read_body(&SALES_ORDER, &body, false) {
            Err(Fail::InvalidContent { path, detail }) => {
                assert_eq!(path, "item.items[0].item");
                assert!(detail.contains("Invalid Field Value"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn external_ids_take_letters_digits_underscore_and_dash_only() {
        assert!(valid_external_id("CID-001_a"));
        assert!(!valid_external_id("RED|PO|1337"));
        assert!(!valid_external_id(""));
    }

    #[test]
    fn text_longer_than_its_field_is_refused() {
        let body = json!({"companyName": "x".repeat(84)});
        assert!(matches!(
            read_body(&CUSTOMER, &body, false),
            Err(Fail::InvalidContent { path, .. }) if path == "companyName"
        ));
    }
}
