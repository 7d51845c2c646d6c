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
