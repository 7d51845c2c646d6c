//! `/integrations/outbox`: every delivery waiting, in flight, done or set aside (Admin): its
//! status, attempts and last error in plain words; retry one, retry all failed, dismiss one.
//! Superseded and Dismissed rows say what they are. Forms work without JavaScript.

use leptos::prelude::*;

use crate::api::deliveries::{list_outbox, DismissOutbox, RetryAllFailed, RetryOutbox};
use crate::domain::connection::Provider;
use crate::domain::sync::{explain_log, OutboxItem};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;
use crate::ui::pages::paging::{page_links, status_and_page, status_tabs};

const STATUSES: &[(&str, &str)] = &[
    ("", "All"),
    ("Pending", "Waiting"),
    ("Processing", "In flight"),
    ("Failed", "Failed"),
    ("Abandoned", "Abandoned"),
    ("Completed", "Done"),
    ("Superseded", "Superseded"),
    ("Dismissed", "Dismissed"),
];

/// The viewer.
#[component]
pub fn OutboxPage() -> impl IntoView {
    let retry = ServerAction::<RetryOutbox>::new();
    let retry_all = ServerAction::<RetryAllFailed>::new();
    let dismiss = ServerAction::<DismissOutbox>::new();
    let wanted = status_and_page();
    let rows = Resource::new(
        move || {
            (
                wanted(),
                retry.version().get(),
                retry_all.version().get(),
                dismiss.version().get(),
            )
        },
        |((status, page), _, _, _)| list_outbox(status, page),
    );
    let feedback = move || {
        let one = retry
            .value()
            .get()
            .map(|r| r.map(|_| "Queued again with the record's current state.".to_string()));
        let all = retry_all
            .value()
            .get()
            .map(|r| r.map(|n| format!("{n} failed deliveries queued again.")));
        let gone = dismiss
            .value()
            .get()
            .map(|r| r.map(|_| "Dismissed. It will not be sent.".to_string()));
        one.or(all).or(gone).map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status" data-testid="outbox-done">{m}</p> }
                .into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <h1>"Outbox"</h1>
        <p class="muted">"Every change waiting to be delivered to an ERP, and what became of it."</p>
        <DoneNotice/>
        {feedback}
        {move || status_tabs("/integrations/outbox", STATUSES, &wanted().0)}
        <div class="actions">
            {Provider::ALL.into_iter().map(|p| view! {
                <ActionForm action=retry_all attr:class="inline">
                    <input type="hidden" name="provider" value=p.slug()/>
                    <button type="submit" class="secondary">{format!("Retry all failed · {}", p.label())}</button>
                </ActionForm>
            }).collect_view()}
        </div>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (status, _) = wanted();
                match rows.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="empty" data-testid="outbox-empty">"Nothing here. Deliveries appear as records change while an ERP is connected."</p>
                    }.into_any(),
                    Ok(page) => {
                        let link = |n: i64| format!("/integrations/outbox?status={status}&page={n}");
                        view! {
                            <div class="table-frame">
                                <table class="table" data-testid="outbox">
                                    <thead><tr><th>"Queued (UTC)"</th><th>"ERP"</th><th>"Event"</th><th>"Record"</th><th>"Status"</th><th class="num">"Attempts"</th><th>"Next attempt"</th><th>"What happened"</th><th></th></tr></thead>
                                    <tbody>{page.items.into_iter().map(|o| view! { <OutboxRow o retry dismiss/> }).collect_view()}</tbody>
                                </table>
                            </div>
                            {page_links(page.page, page.per_page, page.total, link, ("delivery", "deliveries"), true)}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn what_happened(o: &OutboxItem) -> String {
    let provider = o.target_system.as_deref().unwrap_or("");
    match o.status.as_str() {
        "Superseded" => "Replaced by a newer change of the same record (or a re-send); that one is delivered instead.".into(),
        "Dismissed" => o.last_error.clone().unwrap_or_else(|| "Dismissed by an Admin.".into()),
        "Completed" => match o.last_error.as_deref() {
            Some(skip) => explain_log(provider, "Skipped", Some(skip.trim_start_matches("Skipped:").trim())).unwrap_or_default(),
            None => "Delivered.".into(),
        },
        "Failed" | "Abandoned" => explain_log(provider, "Failed", o.last_error.as_deref()).unwrap_or_default(),
        _ => String::new(),
    }
}

#[component]
fn OutboxRow(
    o: OutboxItem,
    retry: ServerAction<RetryOutbox>,
    dismiss: ServerAction<DismissOutbox>,
) -> impl IntoView {
    let what = what_happened(&o);
    let record = match o.entity_type.as_str() {
        "Order" | "Payment" => Some(format!("/orders/{}", o.entity_id)),
        "Customer" => Some(format!("/customers/{}", o.entity_id)),
        _ => None,
    };
    let erp = o
        .target_system
        .as_deref()
        .and_then(|t| t.parse::<Provider>().ok())
        .map(|p| p.label())
        .unwrap_or("—");
    let can_retry = matches!(o.status.as_str(), "Failed" | "Abandoned");
    let can_dismiss = matches!(o.status.as_str(), "Pending" | "Failed" | "Abandoned")
        && o.target_system.is_some();
    let id = o.id.to_string();
    let id2 = id.clone();
    view! {
        <tr>
            <td class="nowrap">{o.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{erp}</td>
            <td>{o.event_type.clone()}</td>
            <td>{match record {
                Some(href) => view! { <a href=href>{o.entity_type.clone()}</a> }.into_any(),
                None => view! { <span>{o.entity_type.clone()}</span> }.into_any(),
            }}</td>
            <td><span class=format!("badge outbox-{}", o.status)>{o.status.clone()}</span></td>
            <td class="num">{format!("{} of {}", o.retry_count, o.max_retries)}</td>
            <td class="nowrap">{o.scheduled_for.filter(|_| matches!(o.status.as_str(), "Pending" | "Failed")).map(|t| t.format("%H:%M:%S").to_string()).unwrap_or_default()}</td>
            <td class="small"><div class="what">{what}</div></td>
            <td class="nowrap">
                {can_retry.then(|| view! {
                    <ActionForm action=retry attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="small">"Retry"</button>
                    </ActionForm>
                })}
                {can_dismiss.then(|| view! {
                    <ActionForm action=dismiss attr:class="inline">
                        <input type="hidden" name="id" value=id2/>
                        <input type="hidden" name="reason" value="dismissed from the outbox"/>
                        <button type="submit" class="small danger">"Dismiss"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
