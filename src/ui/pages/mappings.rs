//! `/integrations/:provider/mappings`: which ERP record is which of ours (IntegrationsView), one
//! entity type at a time, searchable by our id or the ERP's. A GET form: works without
//! JavaScript.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::integrations::list_mappings;
use crate::domain::connection::Provider;
use crate::domain::sync::MappingItem;
use crate::error::AppError;
use crate::ui::components::error_box::ErrorBox;
use crate::ui::pages::paging::{page_links, page_param};
use crate::ui::pages::sync_logs::encode;

const ENTITIES: &[(&str, &str)] = &[
    ("Customer", "Customers"),
    ("Order", "Orders"),
    ("OrderLine", "Order lines"),
    ("Product", "Products"),
    ("Payment", "Payments"),
];

/// The page.
#[component]
pub fn MappingsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let provider = move || params.with(|p| p.get("provider").unwrap_or_default());
    let page = page_param();
    let wanted = move || {
        let (entity, q) = query.with(|q| {
            (
                q.get("entity_type")
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "Customer".into()),
                q.get("q").unwrap_or_default(),
            )
        });
        (entity, q, page())
    };
    let rows = Resource::new(
        move || (provider(), wanted()),
        |(provider, (entity, q, page))| list_mappings(provider, entity, q, page),
    );
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = provider();
                let Ok(p) = slug.parse::<Provider>() else {
                    return view! { <ErrorBox error=AppError::NotFound/> }.into_any();
                };
                let (entity, q, _) = wanted();
                let base = format!(
                    "/integrations/{slug}/mappings?entity_type={}&q={}",
                    encode(&entity),
                    encode(&q)
                );
                let result = rows.await;
                view! {
                    <h1>{format!("{} mappings", p.label())}</h1>
                    <Form method="GET" action=format!("/integrations/{slug}/mappings") attr:class="filters" attr:data-testid="mapping-filters">
                        <label>"Record type"
                            <select name="entity_type">
                                {ENTITIES.iter().map(|(v, l)| view! { <option value=*v selected=entity.as_str() == *v>{*l}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Our id or the ERP's" <input type="search" name="q" value=q.clone()/></label>
                        <div class="filter-actions"><button type="submit">"Search"</button></div>
                    </Form>
                    {match result {
                        Ok(page) if page.items.is_empty() => view! {
                            <p class="empty" data-testid="mappings-empty">"No mappings match. Records get one when they are first delivered to the ERP or matched to one of its records."</p>
                        }.into_any(),
                        Ok(page) => {
                            let link = |n: i64| format!("{base}&page={n}");
                            view! {
                                <MappingTable items=page.items/>
                                {page_links(page.page, page.per_page, page.total, link, ("mapping", "mappings"), false)}
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

fn ours(entity_type: &str, id: String) -> AnyView {
    match entity_type {
        "Customer" => {
            view! { <a href=format!("/customers/{id}")><code>{id.clone()}</code></a> }.into_any()
        }
        "Order" => {
            view! { <a href=format!("/orders/{id}")><code>{id.clone()}</code></a> }.into_any()
        }
        _ => view! { <code>{id}</code> }.into_any(),
    }
}

#[component]
fn MappingTable(items: Vec<MappingItem>) -> impl IntoView {
    view! {
        <div class="table-frame">
            <table class="table" data-testid="mappings">
                <thead><tr><th>"Our record"</th><th>"ERP id"</th><th>"SyncToken"</th><th>"Last synced (UTC)"</th><th>"Log"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|m| {
                        let log = format!("/integrations/logs?q={}", encode(&m.our_id));
                        view! {
                            <tr>
                                <td>{ours(&m.entity_type, m.our_id.clone())}</td>
                                <td><code>{m.external_id}</code></td>
                                <td>{m.sync_token.unwrap_or_default()}</td>
                                <td>{m.last_synced_at.unwrap_or(m.created_at).format("%Y-%m-%d %H:%M").to_string()}</td>
                                <td><a href=log>"Sync log"</a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
