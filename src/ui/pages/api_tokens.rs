//! `/admin/api-tokens`: the tenant's API tokens; create (the secret is shown once) and revoke
//! (ManageApiTokens).

use leptos::prelude::*;

use crate::api::tokens::{list_api_tokens, take_created_api_token, CreateApiToken, RevokeApiToken};
use crate::domain::user::{ApiTokenSummary, CreatedApiToken};
use crate::domain::Role;
use crate::ui::components::error_box::ErrorBox;

/// Token list and forms.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    // A token created by a no-JavaScript form post is handed over once through the session.
    let flashed = Resource::new(|| (), |_| take_created_api_token());
    view! {
        <h1>"API tokens"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let flashed = flashed.await.ok().flatten();
                match tokens.await {
                    Ok(list) => view! {
                        {flashed.map(|t| view! { <NewToken token=t/> })}
                        <TokenTable list revoke/>
                        <CreateTokenForm create/>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenTable(list: Vec<ApiTokenSummary>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    view! {
        <table class="table" data-testid="api-tokens">
            <thead><tr><th>"Name"</th><th>"Token"</th><th>"Role"</th><th>"Created"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|t| {
                    let active = t.revoked_at.is_none();
                    view! {
                        <tr>
                            <td>{t.name}</td>
                            <td><code>{t.prefix}"…"</code></td>
                            <td>{t.role.label()}</td>
                            <td>{t.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                            <td>{if active { "Active" } else { "Revoked" }}</td>
                            <td>
                                {active.then(|| view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=t.id.to_string()/>
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn CreateTokenForm(create: ServerAction<CreateApiToken>) -> impl IntoView {
    let result = create.value();
    view! {
        <section class="card">
            <h2>"Create a token"</h2>
            <ActionForm action=create attr:class="stack">
                <label>"Name" <input type="text" name="name" required maxlength="100"/></label>
                <label>
                    "Role"
                    <select name="role">
                        // Least privilege first and chosen.
                        {[Role::SalesRep, Role::SalesManager, Role::Admin].into_iter()
                            .map(|r| view! { <option value=r.as_str() selected=r == Role::SalesRep>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Create token"</button>
            </ActionForm>
            {move || result.get().map(|r| match r {
                Ok(t) => view! { <NewToken token=t/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn NewToken(token: CreatedApiToken) -> impl IntoView {
    view! {
        <div class="notice" data-testid="new-token">
            <p>"Token " <strong>{token.summary.name}</strong> " created. Copy it now; it will not be shown again:"</p>
            <pre><code>{token.token}</code></pre>
        </div>
    }
}
