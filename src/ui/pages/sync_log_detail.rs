//! `/integrations/logs/:id`: one sync log entry — what happened in plain words, the ERP's own
//! text folded away, the payloads when diagnostic mode kept them, where its delivery stands and
//! a Retry button for roles that may retry (Admin and SalesManager).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::api::integrations::{get_sync_log, DismissSyncLog, RetrySyncLog};
use crate::domain::sync::{DeliveryState, SyncLogDetail};
use crate::domain::Policy;
use crate::error::AppError;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;

/// The page.
#[component]
pub fn SyncLogDetailPage() -> impl IntoView {
    let me = caller();
    let retry = ServerAction::<RetrySyncLog>::new();
    let dismiss = ServerAction::<DismissSyncLog>::new();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<Uuid>().ok()));
    let detail = Resource::new(
        move || (id(), retry.version().get(), dismiss.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_sync_log(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <p><a href="/integrations/logs">"← Sync log"</a></p>
        <DoneNotice/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let who = can(me).await;
                let (may_retry, may_dismiss) = (who.allows(Policy::RequestRetry), who.allows(Policy::IntegrationsManage));
                match detail.await {
                    Ok(d) => view! { <Detail d may_retry may_dismiss retry dismiss/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn record_link(entity_type: &str, id: Option<String>) -> AnyView {
    match (entity_type, id) {
        ("Order", Some(id)) => {
            view! { <a href=format!("/orders/{id}")>"Open the order"</a> }.into_any()
        }
        ("Customer", Some(id)) => {
            view! { <a href=format!("/customers/{id}")>"Open the customer"</a> }.into_any()
        }
        (_, Some(id)) => view! { <code>{id}</code> }.into_any(),
        (_, None) => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

fn provider_label(stored: &str) -> String {
    stored
        .parse::<crate::domain::connection::Provider>()
        .map(|p| p.label().to_string())
        .unwrap_or_else(|_| stored.to_string())
}

fn delivery_text(d: &DeliveryState) -> String {
    let mut text = format!(
        "{} · attempt {} of {}",
        d.status, d.attempts, d.max_attempts
    );
    if let Some(next) = d.next_attempt_at {
        text.push_str(&format!(
            " · next attempt {}",
            next.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    text
}

fn payload(title: &'static str, body: Option<String>) -> AnyView {
    match body {
        Some(body) => view! {
            <details class="payload"><summary>{title}</summary><pre><code>{body}</code></pre></details>
        }
        .into_any(),
        None => ().into_any(),
    }
}

#[component]
fn Detail(
    d: SyncLogDetail,
    may_retry: bool,
    may_dismiss: bool,
    retry: ServerAction<RetrySyncLog>,
    dismiss: ServerAction<DismissSyncLog>,
) -> impl IntoView {
    let l = d.log;
    let result = retry.value();
    let dismissed = dismiss.value();
    let can_dismiss = may_dismiss
        && d.delivery
            .as_ref()
            .is_some_and(|s| matches!(s.status.as_str(), "Pending" | "Failed" | "Abandoned"));
    let log_id = l.id.to_string();
    let dismiss_id = log_id.clone();
    let direction = if l.direction == "FromExternal" {
        "From the ERP"
    } else {
        "To the ERP"
    };
    let can_retry = may_retry && d.delivery.as_ref().is_some_and(|s| s.retryable);
    let no_payloads = d.request_payload.is_none() && d.response_payload.is_none();
    view! {
        <h1>{format!("{} {} · {}", provider_label(&l.provider), l.entity_type, l.status)}</h1>
        {d.explanation.map(|e| view! { <p class=if l.status == "Failed" { "alert" } else { "notice" } data-testid="explanation">{e}</p> })}
        <section class="card">
            <dl class="facts" data-testid="log-facts">
                <dt>"When"</dt><dd>{l.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</dd>
                <dt>"Direction"</dt><dd>{direction}</dd>
                <dt>"Event"</dt><dd>{l.event_type.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Our record"</dt><dd>{record_link(&l.entity_type, l.entity_id)}</dd>
                <dt>"ERP id"</dt><dd><code>{l.external_id.unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Took"</dt><dd>{l.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Attempt"</dt><dd>{l.retry_count + 1}</dd>
                <dt>"Delivery now"</dt><dd data-testid="delivery">{d.delivery.as_ref().map(delivery_text).unwrap_or_else(|| "—".into())}</dd>
            </dl>
            {l.error_message.map(|raw| view! {
                <details><summary>"The ERP's own words"</summary><pre><code>{raw}</code></pre></details>
            })}
            {payload("What we sent", d.request_payload)}
            {payload("What the ERP answered", d.response_payload)}
            {no_payloads.then(|| view! { <p class="muted small">"Payloads are kept only while diagnostic mode is on (connection settings)."</p> })}
        </section>
        <div class="actions">
            {can_retry.then(|| view! {
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="id" value=log_id/>
                    <button type="submit" data-testid="retry">"Retry this delivery"</button>
                </ActionForm>
            })}
        </div>
        {can_dismiss.then(|| view! {
            <details class="card" data-testid="dismiss">
                <summary>"Dismiss this delivery…"</summary>
                <p class="muted">"It will not be sent; the record's later changes go ahead. The audit trail keeps who did it and why."</p>
                <ActionForm action=dismiss attr:class="stack">
                    <input type="hidden" name="id" value=dismiss_id/>
                    <label>"Why (kept in the audit trail)" <input type="text" name="reason" maxlength="500"/></label>
                    <button type="submit" class="danger">"Dismiss"</button>
                </ActionForm>
            </details>
        })}
        {move || result.get().map(|r| match r {
            Ok(()) => view! { <p class="notice" role="status" data-testid="retried">"Queued again; it is sent on the next pass."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        {move || dismissed.get().map(|r| match r {
            Ok(()) => view! { <p class="notice" role="status" data-testid="dismissed">"Dismissed. It will not be sent."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
}
