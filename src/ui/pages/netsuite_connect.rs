//! `/integrations/netsuite/connect`: the Admin connects a NetSuite account with machine-to-machine
//! credentials (recommended: Oracle stops new token-based integrations in 2027.1) or a TBA
//! token. The credentials are tried before anything is stored; a OneWorld account lists its
//! subsidiaries to pick from. Works without JavaScript (the form posts and comes back).

use leptos::prelude::*;

use crate::api::integrations::ConnectNetsuite;
use crate::domain::connection::NetSuiteAccount;
use crate::ui::components::error_box::ErrorBox;

/// The page.
#[component]
pub fn NetSuiteConnectPage() -> impl IntoView {
    let connect = ServerAction::<ConnectNetsuite>::new();
    let result = connect.value();
    // A OneWorld account's subsidiaries, once NetSuite has named them.
    let choices = move || {
        result
            .get()
            .and_then(Result::ok)
            .filter(|a| a.status == "ChooseSubsidiary")
            .map(|a| a.subsidiaries)
    };
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <h1>"Connect NetSuite"</h1>
        <p class="muted">"Find the account id under Setup → Company → Company Information (for a sandbox it reads like 1234567_SB1). The credentials are tried with NetSuite before anything is stored, and they are never shown again."</p>
        {move || result.get().map(|r| match r {
            Ok(account) if account.status == "ChooseSubsidiary" => view! {
                <p class="notice" role="status" data-testid="ns-choose">"This is a OneWorld account: choose the subsidiary our customers and sales orders go to, then try again."</p>
            }.into_any(),
            Ok(account) => view! { <Connected account/> }.into_any(),
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })}
        <ActionForm action=connect attr:class="stack netsuite-connect" attr:data-testid="netsuite-form">
            <label>"Account id"
                <input name="account_id" required placeholder="1234567_SB1" autocomplete="off" data-testid="ns-account"/>
            </label>
            <fieldset>
                <legend>
                    <label class="inline"><input type="radio" name="method" value="m2m" checked data-testid="ns-m2m"/>" Machine to machine (OAuth 2.0 client credentials) — recommended"</label>
                </legend>
                <p class="muted small">"From the integration record (client id) and Setup → Integration → OAuth 2.0 Client Credentials (M2M) Setup (certificate id). The private key signs our requests; the certificate tells us when it expires."</p>
                <label>"Client id"<input name="client_id" autocomplete="off"/></label>
                <label>"Certificate id"<input name="certificate_id" autocomplete="off"/></label>
                <label>"Private key (PEM)"<textarea name="private_key_pem" rows="4" placeholder="-----BEGIN PRIVATE KEY-----"></textarea></label>
                <label>"Certificate (PEM)"<textarea name="certificate_pem" rows="4" placeholder="-----BEGIN CERTIFICATE-----"></textarea></label>
            </fieldset>
            <fieldset>
                <legend>
                    <label class="inline"><input type="radio" name="method" value="tba" data-testid="ns-tba"/>" Token-based authentication (existing tokens)"</label>
                </legend>
                <label>"Consumer key"<input name="consumer_key" autocomplete="off" data-testid="ns-consumer-key"/></label>
                <label>"Consumer secret"<input name="consumer_secret" type="password" autocomplete="off" data-testid="ns-consumer-secret"/></label>
                <label>"Token id"<input name="token_id" autocomplete="off" data-testid="ns-token-id"/></label>
                <label>"Token secret"<input name="token_secret" type="password" autocomplete="off" data-testid="ns-token-secret"/></label>
            </fieldset>
            {move || match choices() {
                Some(list) => view! {
                    <label>"Subsidiary"
                        <select name="subsidiary_id" required data-testid="ns-subsidiary-choice">
                            {list.into_iter().map(|s| view! { <option value=s.id.clone()>{format!("{} — {}", s.name, s.id)}</option> }).collect_view()}
                        </select>
                    </label>
                }.into_any(),
                None => view! {
                    <label>"Subsidiary id (OneWorld accounts; leave empty and we list them)"
                        <input name="subsidiary_id" autocomplete="off" inputmode="numeric" data-testid="ns-subsidiary"/>
                    </label>
                }.into_any(),
            }}
            <p><button type="submit" data-testid="ns-connect">"Try and connect"</button></p>
        </ActionForm>
    }
}

/// What the account turned out to need.
#[component]
fn Connected(account: NetSuiteAccount) -> impl IntoView {
    let expiry = account.certificate_expires_at.map(|t| {
        view! { <li data-testid="ns-expiry">{format!("Certificate expires {} (renew it before then on NetSuite's M2M setup page and here)", t.format("%Y-%m-%d"))}</li> }
    });
    view! {
        <div class="notice" role="status" data-testid="ns-connected">
            <p><strong>{format!("Connected to NetSuite account {}.", account.account_id)}</strong></p>
            <ul>
                <li>{format!("Authentication: {}", if account.method == "m2m" { "machine to machine" } else { "token-based" })}</li>
                {account.home_currency.map(|c| view! { <li>{format!("Home currency: {c}")}</li> })}
                {account.subsidiary_id.map(|s| view! { <li>{format!("Subsidiary: {s}")}</li> })}
                {expiry}
            </ul>
            <p><a href="/integrations">"Back to Integrations"</a></p>
        </div>
    }
}
