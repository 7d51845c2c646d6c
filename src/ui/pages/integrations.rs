//! `/integrations`: one card per ERP with its connection status (IntegrationsView).

use leptos::prelude::*;

use crate::api::integrations::list_connections;
use crate::domain::connection::ConnectionSummary;
use crate::ui::components::error_box::ErrorBox;

/// The dashboard.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let connections = Resource::new(|| (), |_| list_connections());
    view! {
        <h1>"Integrations"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match connections.await {
                    Ok(list) => view! {
                        <div class="connection-cards">
                            {list.into_iter().map(|c| view! { <ConnectionCard c/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConnectionCard(c: ConnectionSummary) -> impl IntoView {
    let status_class = format!("badge status-{}", c.status.as_str());
    view! {
        <article class="card connection" data-provider=c.provider.slug()>
            <h2>{c.provider.label()}</h2>
            <p><span class=status_class>{c.status.label()}</span></p>
            {c.company_name.map(|n| view! { <p>"Company: " {n}</p> })}
            {c.reconnect_reason.map(|r| view! { <p class="error">{r}</p> })}
            {c.last_sync_at.map(|t| view! { <p class="muted">"Last sync " {t.format("%Y-%m-%d %H:%M UTC").to_string()}</p> })}
            <p class="counts">
                <span>{format!("{} pending", c.pending)}</span>" · "
                <span>{format!("{} failed", c.failed)}</span>" · "
                <span class={if c.abandoned > 0 { "error" } else { "" }}>{format!("{} abandoned", c.abandoned)}</span>
            </p>
            {c.paused_until.map(|t| view! {
                <p class="error" data-testid="breaker">"Deliveries paused after repeated failures until " {t.format("%H:%M:%S UTC").to_string()}</p>
            })}
        </article>
    }
}
