//! `/integrations/logs`: the sync log viewer (US-ERP-009, IntegrationsView). The filters are a
//! GET form, so the page works without JavaScript; with it, filtering and paging navigate in
//! place. Wide tables scroll inside their frame, never the page.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::integrations::list_sync_logs;
use crate::domain::sync::{explain_log, LogFilterInput, SyncLogItem};
use crate::domain::Policy;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;

const PROVIDERS: &[(&str, &str)] = &[
    ("quickbooks", "QuickBooks Online"),
    ("netsuite", "NetSuite"),
];
const DIRECTIONS: &[(&str, &str)] = &[
    ("ToExternal", "To the ERP"),
    ("FromExternal", "From the ERP"),
];
const STATUSES: &[&str] = &["Completed", "Failed", "Skipped", "Pending", "InProgress"];
const ENTITIES: &[&str] = &["Customer", "Order", "Payment", "Invoice"];

/// The filters in the current URL.
fn filter_from_query() -> impl Fn() -> LogFilterInput + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            LogFilterInput {
                provider: get("provider"),
                entity_type: get("entity_type"),
                direction: get("direction"),
                status: get("status"),
                from: get("from"),
                to: get("to"),
                q: get("q"),
                page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
                cursor: get("cursor"),
            }
        })
    }
}

/// `/integrations/logs?…&cursor=c` for the same filters (no cursor: the newest page).
fn page_link(f: &LogFilterInput, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let fields = [
        ("provider", &f.provider),
        ("entity_type", &f.entity_type),
        ("direction", &f.direction),
        ("status", &f.status),
        ("from", &f.from),
        ("to", &f.to),
        ("q", &f.q),
    ];
    for (k, v) in fields.iter() {
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("/integrations/logs?{}", query.join("&"))
}

/// 12345 as "12,345".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass as they are).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The viewer.
#[component]
pub fn SyncLogsPage() -> impl IntoView {
    let me = caller();
    let filter = filter_from_query();
    let logs = Resource::new(filter, list_sync_logs);
    view! {
        <h1>"Sync log"</h1>
        <p class="muted">"Every delivery to an ERP, every change that came back, newest first."</p>
        <FilterForm current=filter()/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                let export = can(me).await.allows(Policy::IntegrationsManage).then(|| {
                    let mut href = "/api/integrations/export/sync-logs.csv".to_string();
                    let range: Vec<String> = [("from", &f.from), ("to", &f.to)]
                        .iter()
                        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
                        .collect();
                    if !range.is_empty() {
                        href = format!("{href}?{}", range.join("&"));
                    }
                    view! {
                        <p class="actions">
                            <a class="button" href=href rel="external" download data-testid="export-csv">"Export CSV"</a>
                            <a href="/api/integrations/export/audit.csv" rel="external" download>"Audit events (CSV)"</a>
                            <span class="muted small">"The dates above (default: the last 31 days)."</span>
                        </p>
                    }
                });
                let logs = logs.await;
                view! { {export} {match logs {
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="card" data-testid="logs-empty">
                            "No sync activity matches these filters. Widen the dates or clear a filter; deliveries appear here as soon as an ERP is connected and records change."
                        </p>
                    }.into_any(),
                    Ok(page) => {
                        let prev = page.prev_cursor.as_deref().map(|c| page_link(&f, Some(c)));
                        let next = page.cursor.as_deref().map(|c| page_link(&f, Some(c)));
                        let newest = (page.page > 2).then(|| page_link(&f, None));
                        let summary = if page.total_capped {
                            format!("Page {} · more than {} entries", page.page, thousands(page.total))
                        } else {
                            let pages = ((page.total + page.per_page - 1) / page.per_page).max(1);
                            let noun = if page.total == 1 { "entry" } else { "entries" };
                            format!("Page {} of {pages} · {} {noun}", page.page, thousands(page.total))
                        };
                        view! {
                            <div class="table-frame">
                                <table class="table" data-testid="sync-logs">
                                    <thead><tr>
                                        <th>"When (UTC)"</th><th>"ERP"</th><th>"Record"</th><th>"ERP id"</th>
                                        <th>"Direction"</th><th>"Status"</th><th class="num">"Took"</th><th class="num">"Try"</th><th>"What happened"</th>
                                    </tr></thead>
                                    <tbody>{page.items.into_iter().map(|l| view! { <LogRow l/> }).collect_view()}</tbody>
                                </table>
                            </div>
                            <nav class="pager" aria-label="Pages">
                                {newest.map(|href| view! { <a href=href>"⇤ Newest"</a> })}
                                {prev.map(|href| view! { <a href=href data-testid="logs-newer">"← Newer"</a> })}
                                <span data-testid="logs-summary">{summary}</span>
                                {next.map(|href| view! { <a href=href data-testid="logs-older">"Older →"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }} }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn FilterForm(current: LogFilterInput) -> impl IntoView {
    let selected = |v: &Option<String>, option: &str| v.as_deref() == Some(option);
    view! {
        <Form method="GET" action="/integrations/logs" attr:class="filters" attr:data-testid="log-filters">
            <label>"ERP"
                <select name="provider">
                    <option value="">"Any"</option>
                    {PROVIDERS.iter().map(|(v, l)| view! { <option value=*v selected=selected(&current.provider, v)>{*l}</option> }).collect_view()}
                </select>
            </label>
            <label>"Record type"
                <select name="entity_type">
                    <option value="">"Any"</option>
                    {ENTITIES.iter().map(|v| view! { <option value=*v selected=selected(&current.entity_type, v)>{*v}</option> }).collect_view()}
                </select>
            </label>
            <label>"Direction"
                <select name="direction">
                    <option value="">"Both"</option>
                    {DIRECTIONS.iter().map(|(v, l)| view! { <option value=*v selected=selected(&current.direction, v)>{*l}</option> }).collect_view()}
                </select>
            </label>
            <label>"Status"
                <select name="status">
                    <option value="">"Any"</option>
                    {STATUSES.iter().map(|v| view! { <option value=*v selected=selected(&current.status, v)>{*v}</option> }).collect_view()}
                </select>
            </label>
            <label>"From" <input type="date" name="from" value=current.from.clone().unwrap_or_default()/></label>
            <label>"To" <input type="date" name="to" value=current.to.clone().unwrap_or_default()/></label>
            <label>"Record or ERP id" <input type="search" name="q" value=current.q.clone().unwrap_or_default()/></label>
            <div class="filter-actions">
                <button type="submit">"Filter"</button>
                <a href="/integrations/logs">"Clear"</a>
            </div>
        </Form>
    }
}

/// Plain words first; the ERP's own text folded away beneath.
fn what_happened(l: &SyncLogItem) -> AnyView {
    let plain = explain_log(&l.provider, &l.status, l.error_message.as_deref());
    let raw = l.error_message.clone().filter(|e| !e.trim().is_empty());
    view! {
        {plain.map(|p| view! { <p class="plain">{p}</p> })}
        {raw.map(|r| view! { <details><summary>"Details"</summary><code class="raw">{r}</code></details> })}
    }
    .into_any()
}

#[component]
fn LogRow(l: SyncLogItem) -> AnyView {
    let what = what_happened(&l);
    let record = match (l.entity_type.as_str(), l.entity_id.clone()) {
        ("Order", Some(id)) => view! { <a href=format!("/orders/{id}")>"Order"</a> }.into_any(),
        ("Customer", Some(id)) => {
            view! { <a href=format!("/customers/{id}")>"Customer"</a> }.into_any()
        }
        (kind, Some(id)) => view! { <span title=id>{kind.to_string()}</span> }.into_any(),
        (kind, None) => view! { <span>{kind.to_string()}</span> }.into_any(),
    };
    let direction = if l.direction == "FromExternal" {
        "From ERP"
    } else {
        "To ERP"
    };
    view! {
        <tr>
            <td class="nowrap"><a href=format!("/integrations/logs/{}", l.id) data-testid="log-link">{l.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</a></td>
            <td>{l.provider}</td>
            <td>{record}</td>
            <td><code>{l.external_id.unwrap_or_default()}</code></td>
            <td>{direction}</td>
            <td><span class=format!("badge log-{}", l.status)>{l.status.clone()}</span></td>
            <td class="num">{l.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
            <td class="num">{l.retry_count + 1}</td>
            <td class="small"><div class="what">{what}</div></td>
        </tr>
    }
    .into_any()
}
