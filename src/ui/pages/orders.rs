//! `/orders` and `/orders/:id`: orders with their sync state per ERP.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::paging::{page_param, Pager};
use crate::api::commerce::{get_order, list_orders, RetryFailedSync};
use crate::app::UserResource;
use crate::domain::commerce::{format_money, Order};
use crate::domain::Policy;
use crate::error::AppError;
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::sync_badges::{AbandonedBanner, SyncBadges};

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

/// The record named by the route's `:id`, fetched again after every retry from its page.
pub fn routed_record<T, Fut>(
    retry: impl Fn() -> Option<ServerAction<RetryFailedSync>> + Copy + Send + Sync + 'static,
    fetch: fn(Uuid) -> Fut,
) -> Resource<Result<T, AppError>>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<Uuid>().ok()));
    Resource::new(
        move || (id(), retry().map(|a| a.version().get())),
        move |(id, _)| async move {
            match id {
                Some(id) => fetch(id).await,
                None => Err(AppError::NotFound),
            }
        },
    )
}

/// The order list.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let page = page_param();
    let orders = Resource::new(page, list_orders);
    view! {
        <h1>"Orders"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Ok(p) => view! {
                        <table class="table" data-testid="orders">
                            <thead><tr><th>"Order"</th><th>"Customer"</th><th>"Status"</th><th>"Payment"</th><th>"Total"</th><th>"ERP"</th></tr></thead>
                            <tbody>
                                {p.items.iter().cloned().map(|o| view! { <OrderRow o/> }).collect_view()}
                            </tbody>
                        </table>
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

/// One order.
#[component]
pub fn OrderPage() -> impl IntoView {
    let retry = retry_action(expect_context::<UserResource>());
    let order = routed_record(retry, get_order);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(o) => view! { <OrderDetail o retry=retry()/> }.into_any(),
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
        <p class="muted">{o.customer_name.clone()} " · " {o.status.as_str()} " · " {o.payment_status.as_str()}</p>
        <section class="card">
            <h2>"ERP"</h2>
            <SyncBadges badges=o.sync.clone() retry/>
        </section>
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
        <dl class="totals">
            <dt>"Subtotal"</dt><dd>{format_money(o.subtotal, &o.currency)}</dd>
            <dt>"Shipping"</dt><dd>{format_money(o.shipping_amount, &o.currency)}</dd>
            <dt>"Total"</dt><dd>{format_money(o.total, &o.currency)}</dd>
            <dt>"Paid"</dt><dd>{format_money(o.amount_paid, &o.currency)}</dd>
        </dl>
    }
}
