//! `/customers` and `/customers/:id`: customers with their sync state per ERP.

use leptos::prelude::*;

use super::orders::{retry_action, retry_version, routed_record};
use super::paging::{page_param, Pager};
use crate::api::commerce::{get_customer, list_customers, CreateCustomer, SyncRecord};
use crate::app::UserResource;
use crate::domain::commerce::Address;
use crate::domain::Policy;
use crate::ui::components::access::{caller, can};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::{CreatedNotice, DoneNotice};
use crate::ui::components::sync_badges::{AbandonedBanner, SyncBadges};
use crate::ui::components::sync_now::SyncNow;

/// The customer list.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let me = caller();
    let page = page_param();
    let customers = Resource::new(page, list_customers);
    let create = ServerAction::<CreateCustomer>::new();
    view! {
        <h1>"Customers"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_create = can(me).await.allows(Policy::ManageCommerce);
                match customers.await {
                    Ok(p) => view! {
                        {(p.total == 0).then(|| view! {
                            <p class="empty" data-testid="no-customers">"No customers yet. Add the first one below."</p>
                        })}
                        <div class="table-frame">
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
                        </div>
                        <Pager base="/customers" page=p.page per_page=p.per_page total=p.total/>
                        {can_create.then(|| view! { <NewCustomerForm create/> })}
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The new-customer form (ManageCommerce). On success the browser opens the new customer.
#[component]
fn NewCustomerForm(create: ServerAction<CreateCustomer>) -> impl IntoView {
    let result = create.value();
    view! {
        <section class="card" data-testid="new-customer">
            <h2>"Add a customer"</h2>
            <ActionForm action=create attr:class="stack">
                <label>"Name" <input type="text" name="form[name]" required maxlength="200"/></label>
                <label>"Email (optional)" <input type="email" name="form[email]"/></label>
                <label>"Phone (optional)" <input type="tel" name="form[phone]"/></label>
                <fieldset>
                    <legend>"Billing and shipping address (optional)"</legend>
                    <label>"Street" <input type="text" name="form[line1]"/></label>
                    <label>"City" <input type="text" name="form[city]"/></label>
                    <label>"State / region" <input type="text" name="form[region]"/></label>
                    <label>"Postal code" <input type="text" name="form[postal_code]"/></label>
                    <label>"Country" <input type="text" name="form[country]"/></label>
                </fieldset>
                <button type="submit">"Add customer"</button>
            </ActionForm>
            {move || result.get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert" data-testid="form-error">{e.to_string()}</p>
            })}
        </section>
    }
}

/// One customer: sync state per ERP, addresses, and what the role may do next.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let me = caller();
    let retry = retry_action(expect_context::<UserResource>());
    let sync = ServerAction::<SyncRecord>::new();
    let versions = retry_version(retry);
    let customer = routed_record(move || versions() + sync.version().get(), get_customer);
    view! {
        <CreatedNotice what="Customer"/>
        <DoneNotice/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let who = can(me).await;
                let (can_order, syncs) = (who.allows(Policy::ManageCommerce), who.allows(Policy::IntegrationsManage));
                match customer.await {
                    Ok(c) => view! {
                        <h1>{c.name.clone()}</h1>
                        <AbandonedBanner badges=c.sync.clone()/>
                        <p class="muted">{format!("Customer {}", c.customer_number)} " · " {c.email.clone().unwrap_or_default()} " · " {c.phone.clone().unwrap_or_default()}</p>
                        {can_order.then(|| view! {
                            <p><a class="button" href=format!("/orders/new?customer={}", c.id) data-testid="new-order">"New order for this customer"</a></p>
                        })}
                        <section class="card">
                            <h2>"ERP"</h2>
                            <SyncBadges badges=c.sync.clone() retry=retry()/>
                            {syncs.then(|| view! { <SyncNow action=sync badges=c.sync.clone() entity_type="Customer" id=c.id/> })}
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
