//! The Leptos application: the HTML shell, the route table and the signed-in user's context.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::api::session::whoami;
use crate::ui::components::layout::Layout;
use crate::ui::pages::{
    api_tokens::ApiTokensPage,
    connection_settings::ConnectionSettingsPage,
    customers::{CustomerPage, CustomersPage},
    errors::NotFound,
    home::HomePage,
    inbox::InboxPage,
    integrations::IntegrationsPage,
    login::LoginPage,
    mappings::MappingsPage,
    netsuite_connect::NetSuiteConnectPage,
    order_new::NewOrderPage,
    orders::{OrderPage, OrdersPage},
    outbox::OutboxPage,
    reconciliation::ReconciliationPage,
    sync_log_detail::SyncLogDetailPage,
    sync_logs::SyncLogsPage,
    sync_runs::{SyncRecordsPage, SyncRunPage},
    users::UsersPage,
};

/// The HTML document around the app (server-side only). Its Content-Security-Policy names the
/// nonce Leptos put on this render's inline scripts.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_page_csp() {
    use axum::http::{header, HeaderValue};
    let nonce = leptos::nonce::use_nonce();
    let response = use_context::<leptos_axum::ResponseOptions>();
    if let (Some(nonce), Some(response)) = (nonce, response) {
        let policy = crate::server::http::headers::page_csp(&nonce);
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The signed-in user, loaded once per page and shared through context.
pub type UserResource =
    Resource<Result<Option<crate::domain::user::CurrentUser>, crate::error::AppError>>;

/// The application: layout and routes. Every route renders fully on the server before it is
/// sent (`SsrMode::Async`), so pages show their data with JavaScript disabled.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user: UserResource = Resource::new(|| (), |_| whoami());
    provide_context(user);
    view! {
        <Stylesheet id="leptos" href="/pkg/erp_bridge.css"/>
        <Title text="erp-bridge"/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations") view=IntegrationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/:provider/settings") view=ConnectionSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/:provider/mappings") view=MappingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/quickbooks/reconciliation") view=ReconciliationPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/netsuite/connect") view=NetSuiteConnectPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/:provider/sync") view=SyncRecordsPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/sync-runs/:id") view=SyncRunPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/logs") view=SyncLogsPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/outbox") view=OutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/inbox") view=InboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/integrations/logs/:id") view=SyncLogDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/api-tokens") view=ApiTokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders") view=OrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/new") view=NewOrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:id") view=OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers") view=CustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/:id") view=CustomerPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
