//! Previous / next links for paged lists (plain links: they work without JavaScript).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// "Page N of M" with links.
#[component]
pub fn Pager(base: &'static str, page: i64, per_page: i64, total: i64) -> impl IntoView {
    let pages = ((total + per_page - 1) / per_page).max(1);
    view! {
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=format!("{base}?page={}", page - 1)>"← Previous"</a> })}
            <span>{format!("Page {page} of {pages} · {total} in all")}</span>
            {(page < pages).then(|| view! { <a href=format!("{base}?page={}", page + 1)>"Next →"</a> })}
        </nav>
    }
}

/// The `?page=` of the current URL (1 when absent or not a number), tracked reactively.
pub fn page_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
        })
    }
}

/// The `?status=` ("" when absent) and `?page=` of the current URL, tracked reactively: the
/// inbox and outbox viewers' position.
pub fn status_and_page() -> impl Fn() -> (String, i64) + Copy + Send + Sync + 'static {
    let query = use_query_map();
    let page = page_param();
    move || (query.with(|q| q.get("status").unwrap_or_default()), page())
}

/// "Page N of M · T nouns" with links built by `link(page)`; `noun` is (one, several);
/// newest-first lists say "Newer" / "Older".
pub fn page_links(
    page: i64,
    per_page: i64,
    total: i64,
    link: impl Fn(i64) -> String,
    noun: (&str, &str),
    newest_first: bool,
) -> AnyView {
    let noun = if total == 1 { noun.0 } else { noun.1 };
    let pages = ((total + per_page - 1) / per_page.max(1)).max(1);
    let (back, forward) = if newest_first {
        ("← Newer", "Older →")
    } else {
        ("← Previous", "Next →")
    };
    let prev = (page > 1).then(|| link(page - 1));
    let next = (page < pages).then(|| link(page + 1));
    let summary = format!("Page {page} of {pages} · {total} {noun}");
    view! {
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href>{back}</a> })}
            <span>{summary}</span>
            {next.map(|href| view! { <a href=href>{forward}</a> })}
        </nav>
    }
    .into_any()
}

/// Links to each status of a list (`""` is "all"), the current one marked.
pub fn status_tabs(
    base: &str,
    statuses: &[(&'static str, &'static str)],
    current: &str,
) -> AnyView {
    let links = statuses
        .iter()
        .map(|(value, label)| {
            let href = if value.is_empty() {
                base.to_string()
            } else {
                format!("{base}?status={value}")
            };
            let here = current == *value;
            view! { <a href=href aria-current=here.then_some("page") class:current=here>{*label}</a> }
        })
        .collect_view();
    view! { <nav class="tabs" aria-label="Status">{links}</nav> }.into_any()
}
