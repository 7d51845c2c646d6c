//! `/integrations/:provider/settings`: what is sent to one ERP and how often changes are pulled
//! (US-ERP-010). Admins change them; Sales Managers read them.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::integrations::{get_connection, SaveSettings};
use crate::domain::connection::{ConnectionDetail, ConnectionSettings, Provider};
use crate::domain::Policy;
use crate::error::AppError;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;

/// The page.
#[component]
pub fn ConnectionSettingsPage() -> impl IntoView {
    let me = caller();
    let save = ServerAction::<SaveSettings>::new();
    let params = use_params_map();
    let provider = move || params.with(|p| p.get("provider").unwrap_or_default());
    let detail = Resource::new(
        move || (provider(), save.version().get()),
        |(provider, _)| get_connection(provider),
    );
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <DoneNotice/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let manage = can(me).await.allows(Policy::IntegrationsManage);
                match detail.await {
                    Ok(ConnectionDetail { connection, settings: Some(settings) }) => view! {
                        <h1>{format!("{} settings", connection.provider.label())}</h1>
                        <SettingsForm provider=connection.provider settings manage save/>
                    }.into_any(),
                    Ok(ConnectionDetail { connection, settings: None }) => view! {
                        <h1>{format!("{} settings", connection.provider.label())}</h1>
                        <p class="empty">{format!("{} has not been connected yet. Connect it from the Integrations page; its settings appear here afterwards.", connection.provider.label())}</p>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn toggle(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    on: bool,
    manage: bool,
) -> impl IntoView {
    view! {
        <label class="toggle">
            <input type="checkbox" name=name value="on" checked=on disabled=!manage/>
            <span><strong>{label}</strong><br/><span class="muted small">{hint}</span></span>
        </label>
    }
}

#[component]
fn SettingsForm(
    provider: Provider,
    settings: ConnectionSettings,
    manage: bool,
    save: ServerAction<SaveSettings>,
) -> impl IntoView {
    let result = save.value();
    let invoices = match provider {
        Provider::QuickBooks => "Send invoices",
        Provider::NetSuite => "Send sales orders",
    };
    let payments_hint = match provider {
        Provider::QuickBooks => "Payments recorded here, applied to the order's invoice. Payments made in QuickBooks come back either way.",
        Provider::NetSuite => "Payments recorded here.",
    };
    let diagnostic = match settings.diagnostic_until {
        Some(until) => format!(
            "On until {} — request and response payloads (scrubbed of secrets) are kept for every attempt.",
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        None => "Off.".to_string(),
    };
    view! {
        <section class="card" data-testid="settings">
            {(!manage).then(|| view! { <p class="muted">"Only an Admin can change these settings."</p> })}
            <ActionForm action=save attr:class="stack">
                <input type="hidden" name="provider" value=provider.slug()/>
                {toggle("auto_sync_enabled", "Sync automatically", "Queue every change as it happens. When off, only “Sync now” and backfills send.", settings.auto_sync_enabled, manage)}
                {toggle("sync_customers", "Send customers", "New and changed customers.", settings.sync_customers, manage)}
                {toggle("sync_invoices", invoices, "Paid orders, and orders sent with “Sync now”.", settings.sync_invoices, manage)}
                {toggle("sync_payments", "Send payments", payments_hint, settings.sync_payments, manage)}
                {(provider == Provider::QuickBooks).then(|| view! {
                    <label>"Deposit payments to (QuickBooks account id; empty: Undeposited Funds)"
                        <input type="text" name="deposit_account_id" inputmode="numeric" pattern="[0-9]{0,20}" maxlength="20"
                            value=settings.deposit_account_id.clone().unwrap_or_default() disabled=!manage
                            data-testid="deposit-account"/>
                    </label>
                })}
                <label>"Pull changes every (minutes, 5 to 1,440)"
                    <input type="number" name="pull_frequency_minutes" min="5" max="1440" required
                        value=settings.pull_frequency_minutes.to_string() disabled=!manage/>
                </label>
                <p class="muted" data-testid="diagnostic-state">"Diagnostic mode: " {diagnostic}</p>
                <label>"Turn diagnostic mode on for (minutes, up to 1,440; 0 turns it off; empty leaves it as it is)"
                    <input type="number" name="diagnostic_minutes" min="0" max="1440" disabled=!manage/>
                </label>
                {manage.then(|| view! { <button type="submit">"Save settings"</button> })}
            </ActionForm>
            {move || result.get().map(|r: Result<ConnectionSettings, AppError>| match r {
                Ok(_) => view! { <p class="notice" role="status" data-testid="saved">"Settings saved."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert" data-testid="form-error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
