//! The start page: what each role can do from here.

use leptos::prelude::*;

use crate::app::UserResource;
use crate::domain::user::CurrentUser;
use crate::domain::Role;
use crate::ui::components::error_box::ErrorBox;

/// `/`.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = expect_context::<UserResource>();
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => view! { <RoleHome user=u/> }.into_any(),
                    Ok(None) => view! { <ErrorBox error=crate::error::AppError::Unauthenticated/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RoleHome(user: CurrentUser) -> impl IntoView {
    let body = match user.role {
        Role::Admin => view! {
            <p>"You manage this tenant's ERP connections, users and API tokens."</p>
            <ul class="cards">
                <li><a href="/integrations">"Integrations"</a>" — connection status per ERP."</li>
                <li><a href="/admin/users">"Users"</a>" — who can sign in, and their roles."</li>
                <li><a href="/admin/api-tokens">"API tokens"</a>" — access for scripts using the JSON API."</li>
            </ul>
        }
        .into_any(),
        Role::SalesManager => view! {
            <p>"You follow how orders and customers reach the ERP, and can ask for failed syncs to be retried."</p>
            <ul class="cards">
                <li><a href="/integrations">"Integrations"</a>" — connection status and sync health."</li>
            </ul>
        }
        .into_any(),
        Role::SalesRep => view! {
            <p>"You see whether your orders and customers have reached the ERP."</p>
        }
        .into_any(),
        Role::Customer => view! {
            <p>"Here you will find your orders and whether they have been invoiced."</p>
        }
        .into_any(),
    };
    view! {
        <h1>"Welcome, " {user.display_name.clone()}</h1>
        <p class="muted" data-testid="home-role">{format!("{} at {}", user.role.label(), user.tenant_name)}</p>
        {body}
    }
}
