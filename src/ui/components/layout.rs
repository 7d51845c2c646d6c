//! The page frame: header with the tenant, the navigation the signed-in role may use, and
//! sign-out.

use leptos::prelude::*;

use crate::app::UserResource;
use crate::domain::user::CurrentUser;
use crate::domain::Policy;

/// A navigation entry and the policy that shows it.
struct NavItem {
    href: &'static str,
    label: &'static str,
    policy: Policy,
}

const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Home",
        policy: Policy::SignedIn,
    },
    NavItem {
        href: "/orders",
        label: "Orders",
        policy: Policy::SignedIn,
    },
    NavItem {
        href: "/customers",
        label: "Customers",
        policy: Policy::ViewCommerce,
    },
    NavItem {
        href: "/integrations",
        label: "Integrations",
        policy: Policy::IntegrationsView,
    },
    NavItem {
        href: "/admin/users",
        label: "Users",
        policy: Policy::ManageUsers,
    },
    NavItem {
        href: "/admin/api-tokens",
        label: "API tokens",
        policy: Policy::ManageApiTokens,
    },
];

/// Header, navigation and the page below.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = expect_context::<UserResource>();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"erp-bridge"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! { <Nav user=u/> }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="content">{children()}</main>
    }
}

#[component]
fn Nav(user: CurrentUser) -> impl IntoView {
    let links = NAV
        .iter()
        .filter(|item| user.role.allows(item.policy))
        .map(|item| view! { <a href=item.href>{item.label}</a> })
        .collect_view();
    view! {
        <nav class="mainnav" aria-label="Main">{links}</nav>
        <div class="whoami">
            <span class="tenant">{user.tenant_name.clone()}</span>
            <span class="user" data-role=user.role.as_str()>
                {user.display_name.clone()} " · " {user.role.label()}
            </span>
            <form method="post" action="/auth/logout" class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </div>
    }
}
