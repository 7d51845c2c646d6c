//! The `/v3/company/{realm}/…` API: bearer check, throttles, injected faults, `requestid`
//! replay, then the entity, query, batch or CDC operation.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use super::entities::{self, ApiResult};
use super::fault::Fail;
use super::limits::Permit;
use super::store::Key;
use super::{clock, store, Sandbox};
use super::{preferences, query};

/// Most items one batch call may carry (reference § 4: the client cap is 30).
pub const MAX_BATCH_ITEMS: usize = 30;
/// CDC looks back at most this far.
pub const CDC_MAX_AGE: TimeDelta = TimeDelta::days(30);
/// CDC returns at most this many objects per call.
pub const CDC_MAX_OBJECTS: i64 = 1000;

type Params = Query<HashMap<String, String>>;

/// Bearer check, throttle, injected latency and errors, in that order.
async fn admit(s: &Sandbox, realm: &str, headers: &HeaderMap, batch: bool) -> Result<Permit, Fail> {
    s.inner.stats.requests.fetch_add(1, Relaxed);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Fail::Unauthorized(
            "Authorization header is missing or not a bearer token",
        ))?;
    {
        let mut c = s.inner.db.acquire().await?;
        let row: Option<(String, DateTime<Utc>, bool)> =
            sqlx::query_as("SELECT realm, expires_at, revoked FROM access_tokens WHERE token = $1")
                .bind(token)
                .fetch_optional(&mut *c)
                .await?;
        match row {
            None => return Err(Fail::Unauthorized("Token invalid")),
            Some((_, _, true)) => return Err(Fail::Unauthorized("Token revoked")),
            Some((_, exp, _)) if exp <= clock::now() => {
                return Err(Fail::Unauthorized("Token expired"))
            }
            Some((r, _, _)) if r != realm => return Err(Fail::Forbidden),
            Some(_) => {}
        }
    }
    let faults = s.faults();
    let Some(permit) = s.inner.limiter.admit(realm, batch, &s.limits()) else {
        s.inner.stats.throttled.fetch_add(1, Relaxed);
        return Err(Fail::Throttled {
            retry_after: faults.retry_after_secs,
        });
    };
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let (throttle, fail) = {
        let mut rng = rand::rng();
        (
            rng.random::<f64>() < faults.error_rate_429,
            rng.random::<f64>() < faults.error_rate_5xx,
        )
    };
    if throttle {
        s.inner.stats.throttled.fetch_add(1, Relaxed);
        return Err(Fail::Throttled {
            retry_after: faults.retry_after_secs,
        });
    }
    if fail {
        return Err(Fail::System);
    }
    Ok(permit)
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn with_time(mut body: Map<String, Value>) -> Value {
    body.insert("time".into(), json!(clock::intuit_time(clock::now())));
    Value::Object(body)
}

fn wrap(entity: &str, doc: Value) -> Value {
    let mut m = Map::new();
    m.insert(entity.into(), doc);
    with_time(m)
}

/// `GET /v3/company/{realm}/query?query=…` and `GET …/cdc?…`.
pub async fn get_collection(
    State(s): State<Sandbox>,
    Path((realm, what)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let _permit = match admit(&s, &realm, &headers, false).await {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    let result = match what.as_str() {
        "query" => match params.get("query") {
            Some(q) => run_query(&s, &realm, q).await,
            None => Err(Fail::required("query")),
        },
        "cdc" => cdc(&s, &realm, &params).await,
        "exchangerate" => async {
            let mut c = s.inner.db.acquire().await?;
            super::exchange::rate(&mut c, &realm, &params).await
        }
        .await
        .map(|doc| wrap("ExchangeRate", doc)),
        "preferences" => async {
            let mut c = s.inner.db.acquire().await?;
            preferences::read(&mut c, &realm).await
        }
        .await
        .map(|doc| wrap("Preferences", doc)),
        other => Err(Fail::business(format!(
            "GET /{other} is not an operation; read an entity at /{other}/{{id}}."
        ))),
    };
    result.map(ok).unwrap_or_else(IntoResponse::into_response)
}

/// `GET /v3/company/{realm}/{entity}/{id}`.
pub async fn read_entity(
    State(s): State<Sandbox>,
    Path((realm, entity, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let _permit = match admit(&s, &realm, &headers, false).await {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    let Some(name) = entities::canonical(&entity) else {
        return Fail::business(format!("Unsupported entity {entity}.")).into_response();
    };
    let result = async {
        let mut c = s.inner.db.acquire().await?;
        entities::read(&mut c, &realm, name, &id).await
    }
    .await;
    result
        .map(|doc| ok(wrap(name, doc)))
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v3/company/{realm}/{entity}` (create, update, `?operation=delete`), `…/query`
/// (statement as `application/text`) and `…/batch`.
pub async fn post_entity(
    State(s): State<Sandbox>,
    Path((realm, what)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_batch = what == "batch";
    let _permit = match admit(&s, &realm, &headers, is_batch).await {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    if is_batch {
        s.inner.stats.batch_calls.fetch_add(1, Relaxed);
    }
    if what == "query" {
        let q = String::from_utf8_lossy(&body).to_string();
        return run_query(&s, &realm, &q)
            .await
            .map(ok)
            .unwrap_or_else(IntoResponse::into_response);
    }
    let entity = if is_batch {
        "batch"
    } else {
        match entities::canonical(&what) {
            Some(e) => e,
            None => return Fail::business(format!("Unsupported entity {what}.")).into_response(),
        }
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Fail::validation(
                "4000",
                "Request has invalid or unsupported property",
                format!("The body is not JSON: {e}"),
            )
            .into_response()
        }
    };
    let operation = match (
        params.get("operation").map(String::as_str),
        params.get("include").map(String::as_str),
    ) {
        // How a Payment is voided (reference § 2); an invoice has operation=void.
        (Some("update"), Some("void")) => "update-include-void".to_string(),
        (op, _) => op.unwrap_or("").to_string(),
    };
    let request_id = params
        .get("requestid")
        .filter(|_| !s.faults().ignore_request_id)
        .cloned();
    if let Some(rid) = &request_id {
        if rid.chars().count() > 50 {
            return Fail::validation(
                "2050",
                "String length is either shorter or longer than supported by specification",
                "requestid is longer than 50 characters",
            )
            .into_response();
        }
    }
    let (status, answer) = match write(
        &s,
        &realm,
        entity,
        &operation,
        request,
        request_id.as_deref(),
    )
    .await
    {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    s.inner.wake.notify_one();
    if let Some(hang) = s.take_commit_then_timeout() {
        tracing::info!(%realm, entity, "sandbox: write committed; withholding the answer (commit-then-timeout)");
        tokio::time::sleep(hang).await;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        answer,
    )
        .into_response()
}

/// Runs a write in one transaction, remembering its answer under `request_id`; a repeated
/// `request_id` gets the remembered answer and changes nothing.
async fn write(
    s: &Sandbox,
    realm: &str,
    entity: &str,
    operation: &str,
    request: Value,
    request_id: Option<&str>,
) -> Result<(u16, String), Fail> {
    let now = clock::now();
    let is_update = operation == "update" || (operation.is_empty() && request.get("Id").is_some());
    if entity != "batch" && is_update && s.take_concurrent_edit() {
        // "Another user" saves first, in a transaction of their own.
        let mut other = s.inner.db.begin().await?;
        entities::touch(&mut other, realm, entity, &request, now).await?;
        store::bump(&mut other, "concurrent_edits", 1).await?;
        other.commit().await?;
    }
    let mut tx = s.inner.db.begin().await?;
    if let Some(rid) = request_id {
        if let Some(answer) = store::replay(&mut tx, realm, rid).await? {
            return Ok(answer);
        }
    }
    let outcome = if entity == "batch" {
        batch(&mut tx, realm, request, now).await
    } else {
        single(&mut tx, realm, entity, operation, request, now)
            .await
            .map(|doc| wrap(entity, doc))
    };
    let (status, body) = match outcome {
        Ok(v) => (200u16, v.to_string()),
        Err(f @ Fail::Validation { .. }) => {
            // A rejected write changes nothing but is answered the same way when repeated.
            drop(tx);
            tx = s.inner.db.begin().await?;
            let resp = json!({ "Fault": f.batch_fault(), "time": clock::intuit_time(now) });
            (400u16, resp.to_string())
        }
        Err(other) => return Err(other),
    };
    if let Some(rid) = request_id {
        store::remember(&mut tx, realm, rid, status, &body).await?;
    }
    tx.commit().await?;
    Ok((status, body))
}

async fn single(
    c: &mut SqliteConnection,
    realm: &str,
    entity: &str,
    operation: &str,
    request: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    if entity == "Preferences" {
        return match operation {
            "" | "update" => preferences::update(c, realm, request, now).await,
            other => Err(Fail::business(format!(
                "Preferences can only be read and updated, not {other:?}."
            ))),
        };
    }
    match operation {
        "delete" => entities::delete(c, realm, entity, request, now).await,
        "void" | "update-include-void" => {
            super::void::void(c, realm, entity, operation, request, now).await
        }
        "update" => entities::update(c, realm, entity, request, now).await,
        "" | "create" if request.get("Id").is_some() => {
            entities::update(c, realm, entity, request, now).await
        }
        "" | "create" => entities::create(c, realm, entity, request, now).await,
        other => Err(Fail::business(format!("Unsupported operation {other:?}."))),
    }
}

/// `POST …/batch`: up to 30 items run in order; one item's fault does not undo the others.
async fn batch(
    c: &mut SqliteConnection,
    realm: &str,
    request: Value,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let items = request
        .get("BatchItemRequest")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        return Err(Fail::validation(
            "400",
            "MalformedRequest",
            "Batch Request is Empty",
        ));
    }
    if items.len() > MAX_BATCH_ITEMS {
        // [UNCONFIRMED] the exact body for an oversize batch; the sandbox answers like an empty one.
        return Err(Fail::validation(
            "400",
            "MalformedRequest",
            format!(
                "Batch Request has {} items; the limit is {MAX_BATCH_ITEMS}",
                items.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let b_id = item.get("bId").cloned().unwrap_or(json!(""));
        let mut resp = Map::new();
        resp.insert("bId".into(), b_id);
        if let Some(q) = item.get("Query").and_then(Value::as_str) {
            match query_in(c, realm, q).await {
                Ok(v) => {
                    resp.insert("QueryResponse".into(), v);
                }
                Err(f) => {
                    resp.insert("Fault".into(), f.batch_fault());
                }
            }
            out.push(Value::Object(resp));
            continue;
        }
        let operation = item
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or("create")
            .to_string();
        let found = item.as_object().and_then(|m| {
            m.iter().find_map(|(k, v)| {
                entities::canonical(k)
                    .filter(|e| *e == k)
                    .map(|e| (e, v.clone()))
            })
        });
        let Some((entity, body)) = found else {
            resp.insert(
                "Fault".into(),
                Fail::business("The batch item names no entity.").batch_fault(),
            );
            out.push(Value::Object(resp));
            continue;
        };
        let mut sp = sqlx::Connection::begin(&mut *c).await?;
        match single(&mut sp, realm, entity, &operation, body, now).await {
            Ok(doc) => {
                sp.commit().await?;
                resp.insert(entity.into(), doc);
            }
            Err(f) => {
                sp.rollback().await?;
                resp.insert("Fault".into(), f.batch_fault());
            }
        }
        out.push(Value::Object(resp));
    }
    let mut m = Map::new();
    m.insert("BatchItemResponse".into(), json!(out));
    Ok(with_time(m))
}

async fn run_query(s: &Sandbox, realm: &str, statement: &str) -> ApiResult<Value> {
    let mut c = s.inner.db.acquire().await?;
    let body = query_in(&mut c, realm, statement).await?;
    let mut m = Map::new();
    m.insert("QueryResponse".into(), body);
    Ok(with_time(m))
}

/// The `QueryResponse` object for a statement.
async fn query_in(c: &mut SqliteConnection, realm: &str, statement: &str) -> ApiResult<Value> {
    let q = query::parse(statement)?;
    let entity = entities::canonical(&q.entity).ok_or_else(|| {
        Fail::invalid_query(format!("Invalid query: unknown entity {}", q.entity))
    })?;
    let docs = if entity == "CompanyInfo" {
        vec![entities::company_info(c, realm).await?]
    } else if let Some(ids) = q.any_of("Id") {
        store::by_keys(c, realm, entity, Key::Id, ids).await?
    } else if let (Some(names), "Customer") = (q.any_of("DisplayName"), entity) {
        store::by_keys(c, realm, entity, Key::Name, names).await?
    } else if let (Some(names), "Item" | "Account" | "Term") = (q.any_of("Name"), entity) {
        store::by_keys(c, realm, entity, Key::Name, names).await?
    } else if let Some(numbers) = q.any_of("DocNumber") {
        store::by_keys(c, realm, entity, Key::DocNumber, numbers).await?
    } else {
        store::all(c, realm, entity).await?
    };
    let (total, page) = q.apply(docs);
    let mut m = Map::new();
    if q.count {
        m.insert("totalCount".into(), json!(total));
    } else if !page.is_empty() {
        let n = page.len();
        m.insert(entity.into(), json!(page));
        m.insert("startPosition".into(), json!(q.start));
        m.insert("maxResults".into(), json!(n));
    }
    Ok(Value::Object(m))
}

/// `GET …/cdc?entities=A,B&changedSince=…`: changes (deletions included) since a moment no
/// older than 30 days, at most 1,000 objects, oldest first.
async fn cdc(s: &Sandbox, realm: &str, params: &HashMap<String, String>) -> ApiResult<Value> {
    let names = params
        .get("entities")
        .ok_or_else(|| Fail::required("entities"))?;
    let since_text = params
        .get("changedSince")
        .ok_or_else(|| Fail::required("changedSince"))?;
    let since = clock::parse(since_text)
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(since_text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
        .ok_or_else(|| {
            Fail::business(format!("changedSince {since_text:?} is not a date-time."))
        })?;
    if since < clock::now() - CDC_MAX_AGE {
        // [UNCONFIRMED] what Intuit answers for an older changedSince; refusing is the safe choice.
        return Err(Fail::business(
            "changedSince cannot be more than 30 days ago.",
        ));
    }
    let mut c = s.inner.db.acquire().await?;
    let mut left = CDC_MAX_OBJECTS;
    let mut responses = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let entity = entities::canonical(name)
            .filter(|e| *e != "CompanyInfo")
            .ok_or_else(|| Fail::business(format!("CDC does not support {name}.")))?;
        let rows = if left > 0 {
            store::changed_since(&mut c, realm, entity, since, left).await?
        } else {
            Vec::new()
        };
        left -= i64::try_from(rows.len()).unwrap_or(0);
        let docs: Vec<Value> = rows
            .into_iter()
            .map(|(d, deleted)| {
                if deleted {
                    entities::deleted_shape(&d)
                } else {
                    d
                }
            })
            .collect();
        if docs.is_empty() {
            continue;
        }
        let n = docs.len();
        let mut m = Map::new();
        m.insert(entity.into(), json!(docs));
        m.insert("startPosition".into(), json!(1));
        m.insert("maxResults".into(), json!(n));
        m.insert("totalCount".into(), json!(n));
        responses.push(Value::Object(m));
    }
    if responses.is_empty() {
        responses.push(json!({}));
    }
    let mut m = Map::new();
    m.insert(
        "CDCResponse".into(),
        json!([{ "QueryResponse": responses }]),
    );
    Ok(with_time(m))
}
