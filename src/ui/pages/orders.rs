//! `/orders` and `/orders/:id`: orders with their sync state per ERP.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::paging::{page_param, Pager};
use crate::api::commerce::{
    get_order, list_orders, MarkOrderPaid, RecordPayment, RetryFailedSync, SyncRecord,
};
use crate::app::UserResource;
use crate::domain::commerce::{format_money, Order};
use crate::domain::Policy;
use crate::error::AppError;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::{CreatedNotice, DoneNotice};
use crate::ui::components::payments::{PaymentForms, PaymentList};
use crate::ui::components::sync_badges::{AbandonedBanner, SyncBadges};
use crate::ui::components::sync_now::SyncNow;

/// The retry action, when the signed-in role may retry failed syncs.
pub fn retry_action(
    user: UserResource,
) -> impl Fn() -> Option<ServerAction<RetryFailedSync>> + Copy + Send + Sync + 'static {
    let action = ServerAction::<RetryFailedSync>::new();
    move || {
        user.get()
            .and_then(|u| u.ok().flatten())
            .filter(|u| u.role.allows(Policy::RequestRetry))
            .map(|_| action)
    }
}

/// The record named by the route's `:id`, fetched again whenever `refresh` changes (the
/// versions of the page's actions: after a retry, a payment, a "Sync now").
pub fn routed_record<T, Fut>(
    refresh: impl Fn() -> usize + Send + Sync + 'static,
    fetch: fn(Uuid) -> Fut,
) -> Resource<Result<T, AppError>>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<Uuid>().ok()));
    Resource::new(
        move || (id(), refresh()),
        move |(id, _)| async move {
            match id {
                Some(id) => fetch(id).await,
                None => Err(AppError::NotFound),
            }
        },
    )
}

/// The version of a retry action (0 for roles that may not retry).
pub fn retry_version(
    retry: impl Fn() -> Option<ServerAction<RetryFailedSync>> + Copy + Send + Sync + 'static,
) -> impl Fn() -> usize + Copy + Send + Sync + 'static {
    move || retry().map(|a| a.version().get()).unwrap_or(0)
}

/// The order list.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let me = caller();
    let page = page_param();
    let orders = Resource::new(page, list_orders);
    view! {
        <h1>"Orders"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_create = can(me).await.allows(Policy::ManageCommerce);
                match orders.await {
                    Ok(p) if p.total == 0 => view! {
                        <p class="empty" data-testid="no-orders">"No orders yet. "
                            {if can_create { "Place the first one with “New order”." } else { "They appear here once placed." }}
                        </p>
                        {can_create.then(|| view! { <p><a class="button" href="/orders/new" data-testid="new-order">"New order"</a></p> })}
                    }.into_any(),
                    Ok(p) => view! {
                        {can_create.then(|| view! { <p><a class="button" href="/orders/new" data-testid="new-order">"New order"</a></p> })}
                        <div class="table-frame">
                        <table class="table" data-testid="orders">
                            <thead><tr><th>"Order"</th><th>"Customer"</th><th>"Status"</th><th>"Payment"</th><th>"Total"</th><th>"ERP"</th></tr></thead>
                            <tbody>
                                {p.items.iter().cloned().map(|o| view! { <OrderRow o/> }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <Pager base="/orders" page=p.page per_page=p.per_page total=p.total/>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderRow(o: Order) -> impl IntoView {
    view! {
        <tr>
            <td><a href=format!("/orders/{}", o.id)>{format!("#{}", o.order_number)}</a></td>
            <td>{o.customer_name}</td>
            <td>{o.status.as_str()}</td>
            <td>{o.payment_status.as_str()}</td>
            <td class="num">{format_money(o.total, &o.currency)}</td>
            <td><SyncBadges badges=o.sync retry=None/></td>
        </tr>
    }
}

/// One order: lines, totals, payments, and the sync state per ERP with what the role may do.
#[component]
pub fn OrderPage() -> impl IntoView {
    let me = caller();
    let retry = retry_action(expect_context::<UserResource>());
    let record = ServerAction::<RecordPayment>::new();
    let mark_paid = ServerAction::<MarkOrderPaid>::new();
    let sync = ServerAction::<SyncRecord>::new();
    let versions = retry_version(retry);
    let order = routed_record(
        move || {
            versions() + record.version().get() + mark_paid.version().get() + sync.version().get()
        },
        get_order,
    );
    view! {
        <CreatedNotice what="Order"/>
        <DoneNotice/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let who = can(me).await;
                let (pays, syncs) = (who.allows(Policy::RecordPayments), who.allows(Policy::IntegrationsManage));
                match order.await {
                    Ok(o) => view! {
                        <OrderDetail o=o.clone() retry=retry()/>
                        {syncs.then(|| view! { <SyncNow action=sync badges=o.sync.clone() entity_type="Order" id=o.id/> })}
                        <section class="card">
                            <h2>"Payments"</h2>
                            <PaymentList payments=o.payments.clone()/>
                        </section>
                        {pays.then(|| view! { <PaymentForms order=o record mark_paid/> })}
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderDetail(o: Order, retry: Option<ServerAction<RetryFailedSync>>) -> impl IntoView {
    let cur = o.currency.clone();
    view! {
        <h1>{format!("Order #{}", o.order_number)}</h1>
        <AbandonedBanner badges=o.sync.clone()/>
        <p class="muted">
            <a href=format!("/customers/{}", o.customer_id)>{o.customer_name.clone()}</a>
            " · " {o.status.as_str()} " · " <span data-testid="payment-status">{o.payment_status.as_str()}</span>
        </p>
        <section class="card">
            <h2>"ERP"</h2>
            <SyncBadges badges=o.sync.clone() retry/>
        </section>
        <div class="table-frame">
        <table class="table" data-testid="order-items">
            <thead><tr><th>"#"</th><th>"SKU"</th><th>"Description"</th><th>"Qty"</th><th>"Unit price"</th><th>"Amount"</th><th>"Status"</th></tr></thead>
            <tbody>
                {o.items.iter().map(|i| view! {
                    <tr>
                        <td>{i.line_number}</td>
                        <td>{i.sku.clone()}</td>
                        <td>{i.description.clone()}</td>
                        <td class="num">{i.quantity}</td>
                        <td class="num">{format_money(i.unit_price, &cur)}</td>
                        <td class="num">{format_money(i.amount, &cur)}</td>
                        <td>{i.status.as_str()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
        <dl class="totals" data-testid="totals">
            <dt>"Subtotal"</dt><dd>{format_money(o.subtotal, &o.currency)}</dd>
            <dt>"Shipping"</dt><dd>{format_money(o.shipping_amount, &o.currency)}</dd>
            <dt>"Total"</dt><dd>{format_money(o.total, &o.currency)}</dd>
            <dt>"Paid"</dt><dd>{format_money(o.amount_paid, &o.currency)}</dd>
            <dt>"Balance due"</dt><dd>{format_money(o.total - o.amount_paid, &o.currency)}</dd>
        </dl>
    }
}
