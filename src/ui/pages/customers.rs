//! `/customers` and `/customers/:id`: customers with their sync state per ERP.

use leptos::prelude::*;

use super::orders::{retry_action, routed_record};
use super::paging::{page_param, Pager};
use crate::api::commerce::{get_customer, list_customers};
use crate::app::UserResource;
use crate::domain::commerce::Address;
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::sync_badges::{AbandonedBanner, SyncBadges};

/// The customer list.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let page = page_param();
    let customers = Resource::new(page, list_customers);
    view! {
        <h1>"Customers"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match customers.await {
                    Ok(p) => view! {
                        <table class="table" data-testid="customers">
                            <thead><tr><th>"No."</th><th>"Name"</th><th>"Email"</th><th>"ERP"</th></tr></thead>
                            <tbody>
                                {p.items.iter().cloned().map(|c| view! {
                                    <tr>
                                        <td>{c.customer_number}</td>
                                        <td><a href=format!("/customers/{}", c.id)>{c.name}</a></td>
                                        <td>{c.email.unwrap_or_default()}</td>
                                        <td><SyncBadges badges=c.sync retry=None/></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager base="/customers" page=p.page per_page=p.per_page total=p.total/>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One customer.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let retry = retry_action(expect_context::<UserResource>());
    let customer = routed_record(retry, get_customer);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match customer.await {
                    Ok(c) => view! {
                        <h1>{c.name.clone()}</h1>
                        <AbandonedBanner badges=c.sync.clone()/>
                        <p class="muted">{format!("Customer {}", c.customer_number)} " · " {c.email.clone().unwrap_or_default()} " · " {c.phone.clone().unwrap_or_default()}</p>
                        <section class="card">
                            <h2>"ERP"</h2>
                            <SyncBadges badges=c.sync.clone() retry=retry()/>
                        </section>
                        <div class="two-col">
                            <AddressCard title="Billing address" a=c.billing.clone()/>
                            <AddressCard title="Shipping address" a=c.shipping.clone()/>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddressCard(title: &'static str, a: Address) -> impl IntoView {
    let lines: Vec<String> = [a.line1, a.line2, a.city, a.region, a.postal_code, a.country]
        .into_iter()
        .flatten()
        .collect();
    view! {
        <section class="card">
            <h2>{title}</h2>
            {if lines.is_empty() { view! { <p class="muted">"None"</p> }.into_any() } else {
                view! { <address>{lines.into_iter().map(|l| view! { {l}<br/> }).collect_view()}</address> }.into_any()
            }}
        </section>
    }
}
