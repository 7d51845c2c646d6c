//! `/integrations`: one card per ERP with its connection status (IntegrationsView), and for
//! Admins the Connect / Reconnect / Disconnect controls.

use leptos::prelude::*;

use crate::api::deliveries::StartSyncRun;
use crate::api::integrations::{
    dashboard_health, list_connections, CloseBreaker, DisconnectProvider, PullNetsuite,
    ValidateNetsuite,
};
use crate::domain::connection::{ConnectionStatus, ConnectionSummary, Provider};
use crate::domain::sync::explain_log;
use crate::domain::Policy;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::health::HealthPanel;
use crate::ui::components::notice::DoneNotice;
use crate::ui::pages::sync_runs::StartForm;

/// The dashboard.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectProvider>::new();
    let resume = ServerAction::<CloseBreaker>::new();
    let connections = Resource::new(
        move || (disconnect.version().get(), resume.version().get()),
        |_| list_connections(),
    );
    let health = Resource::new(
        move || (disconnect.version().get(), resume.version().get()),
        |_| dashboard_health(),
    );
    let me = caller();
    view! {
        <h1>"Integrations"</h1>
        <DoneNotice/>
        <p><a href="/integrations/logs" data-testid="open-logs">"Sync log"</a>" — every delivery and every change that came back."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let manage = can(me).await.allows(Policy::IntegrationsManage);
                let outbox = manage.then(|| view! {
                    <p><a href="/integrations/outbox" data-testid="open-outbox">"Outbox"</a>" — what waits to be delivered; retry or dismiss. "
                        <a href="/integrations/inbox" data-testid="open-inbox">"Inbox"</a>" — what the ERPs told us."</p>
                });
                match connections.await {
                    Ok(list) => {
                        let panels = match health.await {
                            Ok(all) => all.into_iter().map(|h| view! { <HealthPanel h/> }).collect_view().into_any(),
                            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                        };
                        view! {
                            {outbox}
                            <div class="connection-cards">
                                {list.into_iter().map(|c| view! { <ConnectionCard c manage disconnect resume/> }).collect_view()}
                            </div>
                            {panels}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A certificate's expiry: stated, and a warning from 30 days ahead (after it, every call fails).
fn credentials_expiry(at: chrono::DateTime<chrono::Utc>, days: i64) -> AnyView {
    let date = at.format("%Y-%m-%d").to_string();
    if days < 0 {
        view! { <p class="error" role="alert" data-testid="credentials-expiry">{format!("The certificate expired on {date}: upload a new one in NetSuite (OAuth 2.0 Client Credentials Setup) and connect again.")}</p> }.into_any()
    } else if days < ConnectionSummary::EXPIRY_WARNING_DAYS {
        view! { <p class="error" data-testid="credentials-expiry">{format!("The certificate expires on {date}, in {days} days: renew it in NetSuite and connect again before then.")}</p> }.into_any()
    } else {
        view! { <p class="muted" data-testid="credentials-expiry">{format!("Certificate valid until {date}")}</p> }.into_any()
    }
}

/// The last failed sync in plain words, with a way to the failures in the log.
fn last_error(provider: Provider, error: Option<String>) -> AnyView {
    let Some(error) = error else {
        return ().into_any();
    };
    let plain = explain_log(provider.as_str(), "Failed", Some(&error)).unwrap_or(error);
    let href = format!(
        "/integrations/logs?provider={}&status=Failed",
        provider.slug()
    );
    view! {
        <p class="error" data-testid="last-error">
            "Last error: " {plain} " " <a href=href>"See failed syncs"</a>
        </p>
    }
    .into_any()
}

/// "Sync records…": with JavaScript, a modal dialog holding the backfill form (the browser's own
/// `<dialog>`: focus moves into it, Escape and Cancel close it, the page behind is inert); without
/// it, the link leads to the same form on its own page. The link sits in the card's action row
/// and the dialog after it (a `<dialog>` may not sit inside a paragraph), sharing `dialog`.
#[component]
fn SyncLink(provider: Provider, dialog: Option<NodeRef<leptos::html::Dialog>>) -> impl IntoView {
    let open = move |ev: leptos::ev::MouseEvent| {
        if let Some(d) = dialog.and_then(|d| d.get()) {
            ev.prevent_default();
            if let Err(e) = d.show_modal() {
                leptos::logging::warn!("the sync dialog did not open: {e:?}");
            }
        }
    };
    view! {
        <a href=format!("/integrations/{}/sync", provider.slug()) data-testid="sync-link" on:click=open>"Sync records…"</a>
    }
}

/// The backfill dialog of [`SyncLink`].
#[component]
fn BackfillDialog(provider: Provider, dialog: NodeRef<leptos::html::Dialog>) -> impl IntoView {
    let start = ServerAction::<StartSyncRun>::new();
    let close = move |_| {
        if let Some(d) = dialog.get() {
            d.close();
        }
    };
    let title = format!("sync-title-{}", provider.slug());
    let labelled_by = title.clone();
    view! {
        <dialog node_ref=dialog class="modal" aria-labelledby=labelled_by data-testid="sync-dialog">
            <h2 id=title>{format!("Sync records to {}", provider.label())}</h2>
            <StartForm provider start/>
            <p class="actions"><button type="button" class="secondary" on:click=close data-testid="sync-cancel">"Cancel"</button></p>
        </dialog>
    }
}

#[component]
fn ConnectionCard(
    c: ConnectionSummary,
    manage: bool,
    disconnect: ServerAction<DisconnectProvider>,
    resume: ServerAction<CloseBreaker>,
) -> impl IntoView {
    let status_class = format!("badge status-{}", c.status.as_str());
    // QuickBooks connects through Intuit's OAuth pages; NetSuite through its credentials form.
    let reconnect = c.status == ConnectionStatus::ReconnectRequired;
    let connect = (manage && c.status != ConnectionStatus::Connected).then(|| match c.provider {
        Provider::QuickBooks => {
            let label = if reconnect { "Reconnect QuickBooks" } else { "Connect to QuickBooks" };
            // A full navigation: the server answers with a redirect to Intuit.
            view! { <p><a class="button" href="/api/integrations/quickbooks/authorize" rel="external" data-testid="connect">{label}</a></p> }.into_any()
        }
        Provider::NetSuite => {
            let label = if reconnect { "Reconnect NetSuite" } else { "Connect NetSuite" };
            view! { <p><a class="button" href="/integrations/netsuite/connect" data-testid="connect">{label}</a></p> }.into_any()
        }
    });
    let check =
        (manage && c.provider == Provider::NetSuite && c.status != ConnectionStatus::NotConnected)
            .then(|| view! { <CheckNetSuite/> });
    let pull =
        (manage && c.provider == Provider::NetSuite && c.status == ConnectionStatus::Connected)
            .then(|| view! { <PullNetSuite/> });
    let can_disconnect = manage && c.status != ConnectionStatus::NotConnected;
    // Only Admins start syncs: only they get the dialog (others follow the link to the page).
    let dialog = manage.then(NodeRef::<leptos::html::Dialog>::new);
    let provider = c.provider.slug();
    view! {
        <article class="card connection" data-provider=c.provider.slug()>
            <h2>{c.provider.label()}</h2>
            <p><span class=status_class data-testid="status">{c.status.label()}</span></p>
            {c.company_name.map(|n| view! { <p data-testid="company">"Company: " {n}</p> })}
            {c.reconnect_reason.map(|r| view! { <p class="error">{r}</p> })}
            {c.credentials_expire_at.zip(c.credentials_days_left).map(|(at, days)| credentials_expiry(at, days))}
            {c.last_sync_at.map(|t| view! { <p class="muted">"Last sync " {t.format("%Y-%m-%d %H:%M UTC").to_string()}</p> })}
            {last_error(c.provider, c.last_sync_error)}
            <p class="counts">
                <span>{format!("{} pending", c.pending)}</span>" · "
                <span>{format!("{} failed", c.failed)}</span>" · "
                <span class={if c.abandoned > 0 { "error" } else { "" }}>{format!("{} abandoned", c.abandoned)}</span>
            </p>
            {c.paused_until.map(|t| view! {
                <div class="breaker" data-testid="breaker">
                    <p class="error">"Deliveries paused until " {t.format("%H:%M:%S UTC").to_string()} ", then one delivery tests whether the ERP is back."</p>
                    {c.paused_reason.clone().map(|r| view! { <p class="muted" data-testid="breaker-reason">{r}</p> })}
                    {manage.then(|| view! {
                        <ActionForm action=resume attr:class="inline">
                            <input type="hidden" name="provider" value=provider/>
                            <button type="submit" data-testid="resume">"Resume deliveries now"</button>
                        </ActionForm>
                    })}
                </div>
            })}
            {(c.status != ConnectionStatus::NotConnected).then(|| view! {
                <p class="actions">
                    <a href=format!("/integrations/{provider}/settings") data-testid="settings-link">"Settings"</a>
                    <a href=format!("/integrations/{provider}/mappings") data-testid="mappings-link">"Mappings"</a>
                    {(manage && c.provider == Provider::QuickBooks).then(|| view! {
                        <a href="/integrations/quickbooks/reconciliation" data-testid="reconcile-link">"Reconcile"</a>
                    })}
                    <SyncLink provider=c.provider dialog=dialog/>
                </p>
                {dialog.map(|dialog| view! { <BackfillDialog provider=c.provider dialog/> })}
            }.into_any())}
            {connect}
            {check}
            {pull}
            {can_disconnect.then(|| view! {
                <details class="disconnect">
                    <summary>"Disconnect…"</summary>
                    <p>"Disconnecting deletes the stored tokens and stops syncing. Mappings are kept for a later reconnect."</p>
                    <ActionForm action=disconnect attr:class="inline">
                        <input type="hidden" name="provider" value=provider/>
                        <button type="submit" class="danger">"Yes, disconnect"</button>
                    </ActionForm>
                </details>
            })}
        </article>
    }
}

/// "Check connection": tries the stored NetSuite credentials again and says what NetSuite said.
#[component]
fn CheckNetSuite() -> impl IntoView {
    let check = ServerAction::<ValidateNetsuite>::new();
    let result = check.value();
    view! {
        <ActionForm action=check attr:class="ns-check">
            <button type="submit" class="secondary" data-testid="ns-check">"Check connection"</button>
        </ActionForm>
        {move || result.get().map(|r| match r {
            Ok(a) if a.reason.is_none() => view! { <p class="notice" role="status" data-testid="ns-check-result">{format!("NetSuite answered: account {} is connected.", a.account_id)}</p> }.into_any(),
            Ok(a) => view! { <p class="error" role="status" data-testid="ns-check-result">{a.reason.unwrap_or_default()}</p> }.into_any(),
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })}
    }
}

/// "Check for changes now": pulls the account at once instead of at the next scheduled pull.
#[component]
fn PullNetSuite() -> impl IntoView {
    let pull = ServerAction::<PullNetsuite>::new();
    let result = pull.value();
    view! {
        <ActionForm action=pull attr:class="ns-pull">
            <button type="submit" class="secondary" data-testid="ns-pull">"Check NetSuite for changes"</button>
        </ActionForm>
        {move || result.get().map(|r| match r {
            Ok(p) => view! { <p class="notice" role="status" data-testid="ns-pull-result">{match p.new_changes {
                0 => "Nothing new in NetSuite since the last check.".to_string(),
                1 => "1 new change found; it is applied within seconds.".to_string(),
                n => format!("{n} new changes found; they are applied within seconds."),
            }}</p> }.into_any(),
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })}
    }
}
