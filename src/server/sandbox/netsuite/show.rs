//! A record as the record API's `GET` shows it: `links` to itself, references as
//! `{links, id, refName}`, `lastModifiedDate` to the minute, `?fields=` choosing body fields, and
//! a sublist as a link unless `?expandSubResources=true` (reference § 3).

use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::schema::RecordType;
use super::store::Record;

/// A record as `GET` shows it.
pub fn shown(base: &str, t: &RecordType, r: &Record, q: &HashMap<String, String>) -> Value {
    let self_href = format!("{base}/{}/{}", t.name, r.id);
    let mut out = Map::new();
    out.insert(
        "links".into(),
        json!([{ "rel": "self", "href": self_href }]),
    );
    let wanted: Option<Vec<String>> = q.get("fields").map(|f| {
        f.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect()
    });
    let expand = q
        .get("expandSubResources")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let Value::Object(doc) = &r.doc else {
        return Value::Object(out);
    };
    let mut all = doc.clone();
    all.insert("id".into(), json!(r.id.to_string()));
    if let Some(eid) = &r.external_id {
        all.insert("externalId".into(), json!(eid));
    }
    all.insert(
        "lastModifiedDate".into(),
        json!(r.last_modified.format("%Y-%m-%dT%H:%M:00Z").to_string()),
    );
    for (k, v) in all {
        if let Some(w) = &wanted {
            if !w.contains(&k.to_ascii_lowercase()) {
                continue;
            }
        }
        let v = match v {
            Value::Object(o) if o.contains_key("refName") => with_link(base, o),
            Value::Array(lines) if t.sublist.is_some_and(|(n, _)| n == k) => {
                let href = format!("{self_href}/{k}");
                if expand {
                    let n = lines.len();
                    let items: Vec<Value> = lines
                        .into_iter()
                        .map(|l| match l {
                            Value::Object(mut line) => {
                                for (_, v) in line.iter_mut() {
                                    if let Value::Object(o) = v {
                                        if o.contains_key("refName") {
                                            *v = with_link(base, o.clone());
                                        }
                                    }
                                }
                                Value::Object(line)
                            }
                            other => other,
                        })
                        .collect();
                    json!({ "links": [{ "rel": "self", "href": href }], "items": items,
                        "count": n, "hasMore": false, "offset": 0, "totalResults": n })
                } else {
                    json!({ "links": [{ "rel": "self", "href": href }] })
                }
            }
            other => other,
        };
        out.insert(k, v);
    }
    Value::Object(out)
}

/// A stored reference `{id, refName, type}` as NetSuite shows it.
fn with_link(base: &str, mut o: Map<String, Value>) -> Value {
    let target = o
        .remove("type")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let id = o
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut shown = Map::new();
    shown.insert(
        "links".into(),
        json!([{ "rel": "self", "href": format!("{base}/{target}/{id}") }]),
    );
    shown.extend(o);
    Value::Object(shown)
}
