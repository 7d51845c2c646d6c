//! The record API, `/services/rest/record/v1/{type}[/{id | eid:externalId}]` (reference § 3):
//!
//! - `POST` creates ⇒ 204, no body, `Location` naming the new record;
//! - `GET` ⇒ the record with `links`, references as `{id, refName, links}`, dates as NetSuite
//!   writes them (`lastModifiedDate` to the minute); `?fields=` picks body fields; a sublist
//!   is a link unless `?expandSubResources=true`;
//! - `PATCH` changes only the fields sent (`null` clears one) ⇒ 204 + `Location`; sublist
//!   lines merge by their `line` key — a line without one is *added* — unless `?replace=item`;
//! - `PUT …/eid:{externalId}` creates or updates (the upsert), with the same merge rule, so a
//!   replayed upsert without `?replace=item` adds its lines again, as NetSuite's does;
//! - `DELETE` ⇒ 204, remembered for SuiteQL's `deletedrecord`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::fault::Fail;
use super::schema::{self, Checked, RecordType};
use super::show;
use super::store::{self, Record, RecordKey};
use super::Sandbox;

type Params = Query<HashMap<String, String>>;

/// `POST /services/rest/record/v1/{type}`.
pub async fn create(
    State(s): State<Sandbox>,
    Path(kind): Path<String>,
    Query(q): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let t = writable(&kind)?;
        let body = parse(&body, t, &headers)?;
        let saved = s
            .write(&call.account, t, Target::New, body.clone(), &q)
            .await?;
        s.after_commit().await;
        Ok(written(&headers, t, &saved, &body.ignored))
    })
    .await
}

/// `GET /services/rest/record/v1/{type}/{id}`.
pub async fn read(
    State(s): State<Sandbox>,
    Path((kind, key)): Path<(String, String)>,
    Query(q): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let t = schema::record_type(&kind).ok_or(Fail::NonexistentId)?;
        let key = record_key(&key)?;
        let mut c = s.inner.db.acquire().await?;
        let r = store::record(&mut c, &call.account, t.name, &key)
            .await?
            .ok_or(Fail::NonexistentId)?;
        let mut resp = axum::Json(show::shown(&base(&headers), t, &r, &q)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oracle.resource+json; type=singular"),
        );
        Ok(resp)
    })
    .await
}

/// `PATCH /services/rest/record/v1/{type}/{id}`.
pub async fn update(
    State(s): State<Sandbox>,
    Path((kind, key)): Path<(String, String)>,
    Query(q): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let t = writable(&kind)?;
        let key = record_key(&key)?;
        let body = parse(&body, t, &headers)?;
        let saved = s
            .write(&call.account, t, Target::Existing(key), body.clone(), &q)
            .await?;
        s.after_commit().await;
        Ok(written(&headers, t, &saved, &body.ignored))
    })
    .await
}

/// `PUT /services/rest/record/v1/{type}/eid:{externalId}` — the upsert.
pub async fn upsert(
    State(s): State<Sandbox>,
    Path((kind, key)): Path<(String, String)>,
    Query(q): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let t = writable(&kind)?;
        // Only `eid:` may be put (reference § 3).
        let RecordKey::External(eid) = record_key(&key)? else {
            return Err(Fail::InvalidRequest(
                "PUT is only supported with an external ID (eid:).".into(),
            ));
        };
        let mut body = parse(&body, t, &headers)?;
        body.external_id = Some(eid.clone());
        let saved = s
            .write(&call.account, t, Target::Upsert(eid), body.clone(), &q)
            .await?;
        s.after_commit().await;
        Ok(written(&headers, t, &saved, &body.ignored))
    })
    .await
}

/// `POST /services/rest/record/v1/{type}/{id}/!transform/{target}` — NetSuite's record
/// transformation. The sandbox knows the one an order-to-cash flow uses: a sales order into its
/// invoice (204 + the invoice's `Location`).
pub async fn transform(
    State(s): State<Sandbox>,
    Path((kind, key, target)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let from = schema::record_type(&kind).ok_or(Fail::NonexistentId)?;
        if from.name != schema::SALES_ORDER.name
            || !target.eq_ignore_ascii_case(schema::INVOICE.name)
        {
            return Err(Fail::InvalidRequest(format!(
                "The transformation of {} into {target} is not supported by this sandbox.",
                from.name
            )));
        }
        let key = record_key(&key)?;
        let mut tx = s.inner.db.begin().await?;
        let order = store::record(&mut tx, &call.account, from.name, &key)
            .await?
            .ok_or(Fail::NonexistentId)?;
        let invoice = super::billing::bill(&mut tx, &call.account, order.id, super::now()).await?;
        tx.commit().await?;
        Ok(written(&headers, &schema::INVOICE, &invoice, &[]))
    })
    .await
}

/// `DELETE /services/rest/record/v1/{type}/{id}`.
pub async fn remove(
    State(s): State<Sandbox>,
    Path((kind, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond(async {
        let call = s.enter(&method, &uri, &headers).await?;
        let t = writable(&kind)?;
        let key = record_key(&key)?;
        let mut c = s.inner.db.acquire().await?;
        let r = store::record(&mut c, &call.account, t.name, &key)
            .await?
            .ok_or(Fail::NonexistentId)?;
        store::delete(&mut c, &call.account, t.name, r.id, super::now()).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

async fn respond(work: impl std::future::Future<Output = Result<Response, Fail>>) -> Response {
    work.await.unwrap_or_else(IntoResponse::into_response)
}

fn writable(kind: &str) -> Result<&'static RecordType, Fail> {
    match schema::record_type(kind) {
        Some(t) if t.writable => Ok(t),
        Some(t) => Err(Fail::InvalidRequest(format!(
            "The record type {} cannot be changed through this sandbox.",
            t.name
        ))),
        None => Err(Fail::InvalidRequest(format!(
            "Record type '{kind}' does not exist."
        ))),
    }
}

/// `647` or `eid:CID001`.
pub fn record_key(key: &str) -> Result<RecordKey, Fail> {
    if let Some(eid) = key.strip_prefix("eid:") {
        if schema::valid_external_id(eid) {
            return Ok(RecordKey::External(eid.to_string()));
        }
        return Err(Fail::InvalidRequest(format!(
            "The external ID {eid} cannot be used in a URL."
        )));
    }
    key.parse()
        .map(RecordKey::Id)
        .map_err(|_| Fail::NonexistentId)
}

fn parse(body: &Bytes, t: &RecordType, headers: &HeaderMap) -> Result<schema::Body, Fail> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        Fail::InvalidRequest(
            "The request could not be understood by the server due to malformed syntax.".into(),
        )
    })?;
    let strict = headers
        .get("x-netsuite-propertynamevalidation")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("error"));
    schema::read_body(t, &value, strict)
}

/// The URL base a client reached (`http://host`), for `Location` and `links`.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/services/rest/record/v1")
}

/// 204 with the record's `Location`, and ignored field names as a warning.
fn written(headers: &HeaderMap, t: &RecordType, r: &Record, ignored: &[String]) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/{}/{}", base(headers), t.name, r.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if !ignored.is_empty() {
        let text = format!("Ignored unknown fields: {}", ignored.join(", "));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().insert("x-netsuite-warning", v);
        }
    }
    resp
}

/// Which record a write is for.
enum Target {
    /// A new one (POST).
    New,
    /// One that must exist (PATCH).
    Existing(RecordKey),
    /// The one with this external id, created if missing (PUT `eid:`).
    Upsert(String),
}

impl Sandbox {
    /// Creates or changes a record from a checked body: the record is read, changed and
    /// written in one transaction, so concurrent writes of one record apply one after another.
    async fn write(
        &self,
        account: &str,
        t: &'static RecordType,
        target: Target,
        body: schema::Body,
        q: &HashMap<String, String>,
    ) -> Result<Record, Fail> {
        let now = super::now();
        let mut tx = self.inner.db.begin().await?;
        let acct = store::account(&mut tx, account)
            .await?
            .ok_or(Fail::InvalidLogin)?;
        let existing = match target {
            Target::New => None,
            Target::Existing(key) => Some(
                store::record(&mut tx, account, t.name, &key)
                    .await?
                    .ok_or(Fail::NonexistentId)?,
            ),
            Target::Upsert(eid) => {
                store::record(&mut tx, account, t.name, &RecordKey::External(eid)).await?
            }
        };
        let creating = existing.is_none();
        let mut r = match existing {
            Some(r) => r,
            None => Record {
                id: store::next_id(&mut tx, account).await?,
                external_id: None,
                doc: json!({ "dateCreated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string() }),
                last_modified: now,
            },
        };
        if let Some(eid) = &body.external_id {
            if r.external_id.as_deref() != Some(eid.as_str()) {
                let clash =
                    store::record(&mut tx, account, t.name, &RecordKey::External(eid.clone()))
                        .await?;
                if clash.is_some_and(|c| c.id != r.id) {
                    // Wording UNCONFIRMED; the refusal itself is NetSuite's rule.
                    return Err(Fail::UserError(format!(
                        "A {} record with the external ID {eid} already exists.",
                        t.name
                    )));
                }
                r.external_id = Some(eid.clone());
            }
        }
        let mut doc = match std::mem::take(&mut r.doc) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut fields = Vec::new();
        for (name, checked) in body.fields {
            fields.push((name, resolve(&mut tx, account, name, checked).await?));
        }
        schema::apply(&mut doc, fields);
        if let (Some((name, _)), Some(lines)) = (t.sublist, body.lines) {
            let replace = q
                .get("replace")
                .is_some_and(|r| r.split(',').any(|s| s.trim().eq_ignore_ascii_case(name)));
            let mut current = match doc.remove(name) {
                Some(Value::Array(l)) if !replace => l,
                _ => Vec::new(),
            };
            for (i, (number, line_fields)) in lines.into_iter().enumerate() {
                let mut resolved = Vec::new();
                for (field, checked) in line_fields {
                    let path = format!("{name}.items[{i}].{field}");
                    resolved.push((field, resolve(&mut tx, account, &path, checked).await?));
                }
                merge_line(&mut current, number, resolved);
            }
            doc.insert(name.into(), Value::Array(current));
        }
        super::rules::complete(&mut tx, account, acct.one_world, t, &mut doc, creating).await?;
        r.doc = Value::Object(doc);
        r.last_modified = now;
        store::save(&mut tx, account, t.name, &r).await?;
        tx.commit().await?;
        Ok(r)
    }
}

/// A line merged by its `line` key: an existing line changes, a new or unnumbered one is added.
fn merge_line(lines: &mut Vec<Value>, number: Option<i64>, fields: Vec<(&'static str, Value)>) {
    let at = number.and_then(|n| {
        lines
            .iter()
            .position(|l| l.get("line").and_then(Value::as_i64) == Some(n))
    });
    match at.and_then(|i| lines.get_mut(i)) {
        Some(Value::Object(line)) => schema::apply(line, fields),
        _ => {
            let next = lines
                .iter()
                .filter_map(|l| l.get("line").and_then(Value::as_i64))
                .max()
                .unwrap_or(0)
                + 1;
            let mut line = Map::new();
            line.insert("line".into(), json!(next));
            schema::apply(&mut line, fields);
            lines.push(Value::Object(line));
        }
    }
}

/// A checked value made storable: a reference looked up in the account (a missing one is the
/// `INVALID_CONTENT` NetSuite answers, at its path).
async fn resolve(
    c: &mut sqlx::SqliteConnection,
    account: &str,
    path: &str,
    checked: Checked,
) -> Result<Value, Fail> {
    match checked {
        Checked::Value(v) => Ok(v),
        Checked::Clear => Ok(Value::Null),
        Checked::Ref {
            target,
            id,
            external_id,
        } => {
            let key = match (id, external_id.clone()) {
                (Some(id), _) => RecordKey::Id(id),
                (None, Some(eid)) => RecordKey::External(eid),
                (None, None) => return Err(Fail::Unexpected),
            };
            let found = store::record(c, account, target, &key).await?;
            let Some(found) = found else {
                let shown = id
                    .map(|i| i.to_string())
                    .or(external_id)
                    .unwrap_or_default();
                let field = path.rsplit('.').next().unwrap_or(path);
                return Err(Fail::InvalidContent {
                    detail: format!("Error while accessing resource: You have entered an Invalid Field Value {shown} for the following field: {field}"),
                    path: path.to_string(),
                });
            };
            Ok(json!({
                "id": found.id.to_string(),
                "refName": super::rules::ref_name(target, &found.doc),
                "type": target,
            }))
        }
    }
}
