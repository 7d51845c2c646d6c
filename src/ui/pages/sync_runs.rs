//! `/integrations/:provider/sync`: the backfill form (Admin) — customers, orders or both, only
//! those changed since a day or only the ids listed — with the latest runs; and
//! `/integrations/sync-runs/:id`: one run's progress, which updates itself until every delivery
//! is finished (polling with JavaScript, a page refresh without) and survives a reload.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::api::deliveries::{get_sync_run, list_sync_runs, StartSyncRun};
use crate::domain::connection::Provider;
use crate::domain::sync::SyncRun;
use crate::domain::Policy;
use crate::error::AppError;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;

/// The backfill form and the latest runs.
#[component]
pub fn SyncRecordsPage() -> impl IntoView {
    let me = caller();
    let start = ServerAction::<StartSyncRun>::new();
    let params = use_params_map();
    let provider =
        move || params.with(|p| p.get("provider").and_then(|s| s.parse::<Provider>().ok()));
    let runs = Resource::new(move || start.version().get(), |_| list_sync_runs(1));
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let manage = can(me).await.allows(Policy::IntegrationsManage);
                let Some(provider) = provider() else {
                    return view! { <ErrorBox error=AppError::NotFound/> }.into_any();
                };
                let runs = runs.await;
                view! {
                    <h1>{format!("Sync records to {}", provider.label())}</h1>
                    {if manage {
                        view! { <StartForm provider start/> }.into_any()
                    } else {
                        view! { <p class="muted">"Only an Admin can start a sync."</p> }.into_any()
                    }}
                    <h2>"Latest runs"</h2>
                    {match runs {
                        Ok(page) if page.items.is_empty() => view! { <p class="empty">"No sync has been run yet."</p> }.into_any(),
                        Ok(page) => view! { <RunTable runs=page.items/> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// The backfill form (its own page, or the dashboard's dialog).
#[component]
pub fn StartForm(provider: Provider, start: ServerAction<StartSyncRun>) -> impl IntoView {
    let result = start.value();
    view! {
        <section class="card" data-testid="sync-form">
            <p class="muted">"Sends each record's current state, including records created before the connection existed. A record already waiting for delivery is not queued twice."</p>
            <ActionForm action=start attr:class="stack">
                <input type="hidden" name="provider" value=provider.slug()/>
                <fieldset>
                    <legend>"What to sync"</legend>
                    <label class="toggle"><input type="radio" name="scope" value="All" checked=true/>" Customers and orders"</label>
                    <label class="toggle"><input type="radio" name="scope" value="Customer"/>" Customers"</label>
                    <label class="toggle"><input type="radio" name="scope" value="Order"/>" Orders (placed or fulfilled)"</label>
                </fieldset>
                <label>"Only records changed since (optional)" <input type="date" name="since"/></label>
                <label>"Only these records (optional: ids, one per line)"
                    <textarea name="ids" rows="3" spellcheck="false"></textarea>
                </label>
                <button type="submit" data-testid="start-sync">"Start sync"</button>
            </ActionForm>
            {move || result.get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert" data-testid="form-error">{e.to_string()}</p>
            })}
        </section>
    }
}

fn scope_label(scope: &str) -> &'static str {
    match scope {
        "Customer" => "Customers",
        "Order" => "Orders",
        _ => "Customers and orders",
    }
}

#[component]
fn RunTable(runs: Vec<SyncRun>) -> impl IntoView {
    view! {
        <div class="table-frame">
            <table class="table" data-testid="sync-runs">
                <thead><tr><th>"Started (UTC)"</th><th>"ERP"</th><th>"What"</th><th class="num">"Done"</th><th class="num">"Delivered"</th><th class="num">"Failed"</th><th>"State"</th></tr></thead>
                <tbody>
                    {runs.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/integrations/sync-runs/{}", r.id)>{r.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</a></td>
                            <td>{r.provider.label()}</td>
                            <td>{scope_label(&r.scope)}</td>
                            <td class="num">{format!("{} %", r.percent)}</td>
                            <td class="num">{r.delivered}</td>
                            <td class="num">{r.failed + r.not_queued}</td>
                            <td>{if r.complete { "Finished" } else { "Running" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One run's progress.
#[component]
pub fn SyncRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<Uuid>().ok()));
    let tick = RwSignal::new(0u32);
    let run = Resource::new(
        move || (id(), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_sync_run(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    // With JavaScript: ask again every two seconds until the run is complete.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let running = run
                    .get_untracked()
                    .is_some_and(|r| r.is_ok_and(|r| !r.complete));
                if running {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(r) => view! { <RunProgress r/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RunProgress(r: SyncRun) -> impl IntoView {
    let failed_logs = format!(
        "/integrations/logs?provider={}&status=Failed",
        r.provider.slug()
    );
    let state = if r.complete {
        format!(
            "Finished{}",
            r.finished_at
                .map(|t| t.format(" at %H:%M:%S UTC").to_string())
                .unwrap_or_default()
        )
    } else {
        "Running — this page updates by itself.".to_string()
    };
    view! {
        // Without JavaScript the page reloads itself while the run is going.
        {(!r.complete).then(|| view! { <noscript><meta http-equiv="refresh" content="3"/></noscript> })}
        <h1>{format!("{} to {}", scope_label(&r.scope), r.provider.label())}</h1>
        <section class="card" data-testid="run-progress" data-complete=r.complete.to_string()>
            <p><strong data-testid="run-percent">{format!("{} %", r.percent)}</strong>" · " <span data-testid="run-state">{state}</span></p>
            <progress max="100" value=r.percent.to_string() aria-label="Progress">{format!("{} %", r.percent)}</progress>
            <dl class="facts">
                <dt>"Records"</dt><dd data-testid="run-total">{r.total}</dd>
                <dt>"Delivered"</dt><dd data-testid="run-delivered">{r.delivered}</dd>
                <dt>"Still to deliver"</dt><dd>{r.pending}</dd>
                <dt>"Failed"</dt><dd data-testid="run-failed">{r.failed}</dd>
                <dt>"Set aside (newer change or dismissed)"</dt><dd>{r.set_aside}</dd>
                <dt>"Not queued"</dt><dd>{r.not_queued}</dd>
                <dt>"Started"</dt><dd>{r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</dd>
                {r.since.map(|s| view! { <dt>"Changed since"</dt><dd>{s.format("%Y-%m-%d").to_string()}</dd> })}
            </dl>
            {(r.failed > 0).then(|| view! { <p class="error">"Some deliveries failed. " <a href=failed_logs>"See why in the sync log"</a>"."</p> })}
            {(!r.errors.is_empty()).then(|| view! {
                <details><summary>{format!("{} records could not be queued", r.errors.len())}</summary>
                    <ul>{r.errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                </details>
            })}
        </section>
    }
}
