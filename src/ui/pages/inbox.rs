//! `/integrations/inbox`: every event an ERP sent us (Admin) — by status, with attempts and the
//! last error — and a button that puts every failed one back in line. Works without JavaScript.

use leptos::prelude::*;

use crate::api::deliveries::{list_inbox, RetryInboxFailed};
use crate::domain::connection::Provider;
use crate::domain::sync::InboxItem;
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;
use crate::ui::pages::paging::{page_links, status_and_page, status_tabs};

const STATUSES: &[(&str, &str)] = &[
    ("", "All"),
    ("Pending", "Waiting"),
    ("InProgress", "In progress"),
    ("Failed", "Failed"),
    ("Completed", "Processed"),
    ("Skipped", "Skipped"),
];

/// The viewer.
#[component]
pub fn InboxPage() -> impl IntoView {
    let retry = ServerAction::<RetryInboxFailed>::new();
    let wanted = status_and_page();
    let rows = Resource::new(
        move || (wanted(), retry.version().get()),
        |((status, page), _)| list_inbox(status, page),
    );
    let result = retry.value();
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <h1>"Inbox"</h1>
        <p class="muted">"Every change an ERP told us about (webhooks and change pulls), recorded once and processed in order."</p>
        <DoneNotice/>
        {move || result.get().map(|r| match r {
            Ok(n) => view! { <p class="notice" role="status">{format!("{n} failed events put back in line.")}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        {move || status_tabs("/integrations/inbox", STATUSES, &wanted().0)}
        <ActionForm action=retry attr:class="actions">
            <button type="submit" class="secondary">"Retry all failed events"</button>
        </ActionForm>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (status, _) = wanted();
                match rows.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="empty" data-testid="inbox-empty">"Nothing here. Events appear when an ERP reports a change (a payment recorded in QuickBooks, say)."</p>
                    }.into_any(),
                    Ok(page) => {
                        let link = |n: i64| format!("/integrations/inbox?status={status}&page={n}");
                        view! {
                            <div class="table-frame">
                                <table class="table" data-testid="inbox">
                                    <thead><tr><th>"Received (UTC)"</th><th>"ERP"</th><th>"Event"</th><th>"ERP record"</th><th>"Status"</th><th class="num">"Attempts"</th><th>"Last error"</th></tr></thead>
                                    <tbody>{page.items.into_iter().map(|i| view! { <InboxRow i/> }).collect_view()}</tbody>
                                </table>
                            </div>
                            {page_links(page.page, page.per_page, page.total, link, ("event", "events"), true)}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InboxRow(i: InboxItem) -> impl IntoView {
    let erp = i
        .provider
        .parse::<Provider>()
        .map(|p| p.label())
        .unwrap_or("—");
    view! {
        <tr>
            <td class="nowrap">{i.received_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{erp}</td>
            <td>{i.event_type.unwrap_or_default()}</td>
            <td>{format!("{} {}", i.entity_type.unwrap_or_default(), i.entity_id.unwrap_or_default())}</td>
            <td><span class=format!("badge log-{}", i.status)>{i.status.clone()}</span></td>
            <td class="num">{i.attempts}</td>
            <td class="small"><div class="what">{i.last_error.unwrap_or_default()}</div></td>
        </tr>
    }
}
