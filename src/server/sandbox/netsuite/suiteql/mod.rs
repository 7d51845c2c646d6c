//! SuiteQL, `POST /services/rest/query/v1/suiteql?limit=&offset=` with `Prefer: transient` and
//! `{"q": "SELECT …", "params": ["…"]}` (reference § 4): pages of at most 1,000 rows, the
//! offset a multiple of the limit, at most 100,000 rows reachable; the answer has `links`
//! (self, first, prev, next, last), `count`, `hasMore`, `items`, `offset` and `totalResults`;
//! column names lowercase, every value a string, NULL columns left out, plain dates in the
//! account's date format without the time of day.

mod eval;
mod tables;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::fault::Fail;
use super::Sandbox;

/// The query endpoint's path.
pub const PATH: &str = "/services/rest/query/v1/suiteql";
/// Rows per page, at most (and by default).
const MAX_LIMIT: u64 = 1_000;
/// Rows a query can reach through offsets.
const MAX_ROWS: u64 = 100_000;

#[derive(Deserialize)]
struct Body {
    q: String,
    #[serde(default)]
    params: Vec<Value>,
}

/// `POST /services/rest/query/v1/suiteql`.
pub async fn query(
    State(s): State<Sandbox>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run(&s, &q, &method, &uri, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run(
    s: &Sandbox,
    q: &HashMap<String, String>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Fail> {
    let call = s.enter(method, uri, headers).await?;
    let transient = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("transient"))
        });
    if !transient {
        // Oracle documents the header as required; the wording of the refusal is ours.
        return Err(Fail::InvalidRequest(
            "SuiteQL queries must be sent with the header Prefer: transient.".into(),
        ));
    }
    let body: Body = serde_json::from_slice(body).map_err(|_| {
        Fail::InvalidRequest(
            "The request could not be understood by the server due to malformed syntax.".into(),
        )
    })?;
    let limit = number_param(q, "limit", MAX_LIMIT)?;
    let offset = number_param(q, "offset", 0)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_param("limit", "The limit must be between 1 and 1000."));
    }
    if offset % limit != 0 {
        return Err(bad_param(
            "offset",
            "The offset must be a multiple of the limit.",
        ));
    }
    if offset >= MAX_ROWS {
        return Err(bad_param(
            "offset",
            "A query can reach at most 100000 results; narrow it (for example WHERE id > the last id seen).",
        ));
    }
    let params: Vec<String> = body
        .params
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let plan = eval::plan(&body.q, &params).map_err(search_error)?;
    let rows = {
        let mut c = s.inner.db.acquire().await?;
        tables::rows(&mut c, &call.account, &plan.table).await?
    };
    let rows =
        rows.ok_or_else(|| search_error(format!("Record '{}' was not found.", plan.table)))?;
    let answer = plan.run(rows).map_err(search_error)?;
    let total = answer.len() as u64;
    let page: Vec<Value> = answer
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|row| {
            let mut item = Map::new();
            item.insert("links".into(), json!([]));
            for (col, v) in row {
                if let Some(text) = eval::answer_text(&v) {
                    item.insert(col, json!(text));
                }
            }
            Value::Object(item)
        })
        .collect();
    let count = page.len() as u64;
    let has_more = offset + count < total.min(MAX_ROWS);
    let href = |o: u64| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}{PATH}?limit={limit}&offset={o}")
    };
    let last = total.min(MAX_ROWS).saturating_sub(1) / limit * limit;
    let mut links = vec![json!({ "rel": "first", "href": href(0) })];
    if offset > 0 {
        links.push(json!({ "rel": "prev", "href": href(offset - limit) }));
    }
    if has_more {
        links.push(json!({ "rel": "next", "href": href(offset + limit) }));
    }
    links.push(json!({ "rel": "last", "href": href(last) }));
    links.push(json!({ "rel": "self", "href": href(offset) }));
    Ok(axum::Json(json!({
        "links": links,
        "count": count,
        "hasMore": has_more,
        "items": page,
        "offset": offset,
        "totalResults": total,
    }))
    .into_response())
}

fn number_param(q: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, Fail> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| bad_param(name, &format!("The value of {name} is not a number."))),
    }
}

fn bad_param(name: &str, detail: &str) -> Fail {
    Fail::InvalidParameter {
        detail: detail.to_string(),
        param: Some(name.to_string()),
    }
}

/// NetSuite's answer to a query it cannot run (wording as integrators report it; UNCONFIRMED
/// in Oracle's pages).
fn search_error(why: String) -> Fail {
    Fail::InvalidParameter {
        detail: format!(
            "Invalid search query. Detailed unprocessed description follows. Search error occurred: {why}"
        ),
        param: Some("q".into()),
    }
}
