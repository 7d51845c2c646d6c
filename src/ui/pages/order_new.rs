//! `/orders/new`: the staff order form (ManageCommerce). A customer (preselected by
//! `?customer=`), a currency, shipping and up to five lines; the server checks everything and
//! names the field at fault. On success the browser opens the new order.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::commerce::{customer_choices, list_products, CreateOrder};
use crate::domain::commerce::{Customer, Product};
use crate::domain::forms::ORDER_FORM_LINES;
use crate::domain::money::format_money;
use crate::ui::components::error_box::ErrorBox;

/// The form, once customers and products are loaded.
#[component]
pub fn NewOrderPage() -> impl IntoView {
    let create = ServerAction::<CreateOrder>::new();
    let query = use_query_map();
    let chosen = move || query.with(|q| q.get("customer").unwrap_or_default());
    let choices = Resource::new(
        || (),
        |_| async move {
            let customers = customer_choices().await?;
            let products = list_products(1).await?;
            Ok::<_, crate::error::AppError>((customers.items, products.items))
        },
    );
    view! {
        <h1>"New order"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok((customers, _)) if customers.is_empty() => view! {
                        <p class="empty">"There are no customers yet. "<a href="/customers">"Add a customer"</a>" first."</p>
                    }.into_any(),
                    Ok((_, products)) if products.is_empty() => view! {
                        <p class="empty">"There are no products to sell yet; add them through the API (POST /api/v1/products)."</p>
                    }.into_any(),
                    Ok((customers, products)) => view! {
                        <OrderForm create customers products chosen=chosen()/>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderForm(
    create: ServerAction<CreateOrder>,
    customers: Vec<Customer>,
    products: Vec<Product>,
    chosen: String,
) -> impl IntoView {
    let result = create.value();
    let currencies: Vec<String> = {
        let mut c: Vec<String> = products.iter().map(|p| p.currency.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    view! {
        <section class="card" data-testid="order-form">
            <ActionForm action=create attr:class="stack">
                <label>"Customer"
                    <select name="form[customer_id]" required>
                        <option value="">"Choose a customer"</option>
                        {customers.into_iter().map(|c| {
                            let id = c.id.to_string();
                            let selected = id == chosen;
                            view! { <option value=id selected=selected>{format!("{} · {}", c.customer_number, c.name)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Currency"
                    <select name="form[currency]">
                        {currencies.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <fieldset>
                    <legend>"Lines (leave a row's product empty to skip it)"</legend>
                    {(0..ORDER_FORM_LINES).map(|i| view! {
                        <div class="line-row">
                            <label>{format!("Product, line {}", i + 1)}
                                <select name=format!("form[lines][{i}][product_id]")>
                                    <option value="">"—"</option>
                                    {products.iter().map(|p| view! {
                                        <option value=p.id.to_string()>{format!("{} · {} · {}", p.sku, p.name, format_money(p.unit_price, &p.currency))}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <label>{format!("Quantity, line {}", i + 1)}
                                <input type="number" name=format!("form[lines][{i}][quantity]") min="1" max="1000000" placeholder="1"/>
                            </label>
                        </div>
                    }).collect_view()}
                </fieldset>
                <label>"Shipping (optional, in the order's currency)"
                    <input type="text" name="form[shipping]" inputmode="decimal" placeholder="0.00"/>
                </label>
                <button type="submit">"Place order"</button>
            </ActionForm>
            {move || result.get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert" data-testid="form-error">{e.to_string()}</p>
            })}
        </section>
    }
}
