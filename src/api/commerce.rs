//! Orders and customers screens, and the retry button on their sync badges.

use crate::domain::commerce::{Customer, Order, Page};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

/// A page of orders (a Customer user's own).
#[server(prefix = "/rpc", endpoint = "list_orders")]
pub async fn list_orders(page: i64) -> Result<Page<Order>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::orders::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(page),
                Some(25),
            )
            .await
        }
        .await,
    )
}

/// One order.
#[server(prefix = "/rpc", endpoint = "get_order")]
pub async fn get_order(id: Uuid) -> Result<Order, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::orders::get(&ctx::state()?.db, &ctx::principal()?, id).await
        }
        .await,
    )
}

/// A page of customers.
#[server(prefix = "/rpc", endpoint = "list_customers")]
pub async fn list_customers(page: i64) -> Result<Page<Customer>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::customers::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(page),
                Some(25),
            )
            .await
        }
        .await,
    )
}

/// One customer.
#[server(prefix = "/rpc", endpoint = "get_customer")]
pub async fn get_customer(id: Uuid) -> Result<Customer, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::customers::get(&ctx::state()?.db, &ctx::principal()?, id).await
        }
        .await,
    )
}

/// Re-queues a failed delivery shown on a badge (Admin and SalesManager).
#[server(prefix = "/rpc", endpoint = "retry_failed_sync")]
pub async fn retry_failed_sync(outbox_id: Uuid) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_admin::retry_failed_sync(
                &ctx::state()?.db,
                &ctx::principal()?,
                outbox_id,
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}

/// A page of products (for the order form's product picker).
#[server(prefix = "/rpc", endpoint = "list_products")]
pub async fn list_products(page: i64) -> Result<Page<crate::domain::commerce::Product>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::customers::list_products(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(page),
                Some(200),
            )
            .await
        }
        .await,
    )
}

/// The customers an order form may pick from (the first 200 by number).
#[server(prefix = "/rpc", endpoint = "customer_choices")]
pub async fn customer_choices() -> Result<Page<Customer>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::customers::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(1),
                Some(200),
            )
            .await
        }
        .await,
    )
}

/// The staff "new customer" form: every field as typed (empty means none). On success the
/// browser goes to the new customer's page.
#[server(prefix = "/rpc", endpoint = "create_customer")]
pub async fn create_customer(
    form: crate::domain::forms::CustomerForm,
) -> Result<Customer, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let input = form.into_input();
            let created = crate::server::service::customers::create(
                &ctx::state()?.db,
                &ctx::principal()?,
                input,
            )
            .await?;
            leptos_axum::redirect(&format!("/customers/{}?created=1", created.id));
            Ok(created)
        }
        .await,
    )
}

/// The staff "new order" form: a customer, a currency, shipping in major units and up to
/// [`crate::domain::forms::ORDER_FORM_LINES`] lines (empty lines are ignored). On success the
/// browser goes to the new order's page.
#[server(prefix = "/rpc", endpoint = "create_order")]
pub async fn create_order(form: crate::domain::forms::OrderForm) -> Result<Order, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let input = form.into_input().map_err(AppError::BadRequest)?;
            let created = crate::server::service::orders::create(
                &ctx::state()?.db,
                &ctx::principal()?,
                input,
            )
            .await?;
            leptos_axum::redirect(&format!("/orders/{}?created=1", created.id));
            Ok(created)
        }
        .await,
    )
}

/// Records a payment typed in major units of the order's currency (RecordPayments).
#[server(prefix = "/rpc", endpoint = "record_payment")]
pub async fn record_payment(
    order_id: Uuid,
    amount: String,
    method: String,
    reference: String,
) -> Result<Order, AppError> {
    use super::ctx;
    use crate::server::service::orders;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let principal = ctx::principal()?;
            principal.require(crate::domain::Policy::RecordPayments)?;
            let order = orders::get(&state.db, &principal, order_id).await?;
            let amount = crate::domain::money::parse_major(&amount, &order.currency)
                .map_err(|e| AppError::BadRequest(format!("Amount: {e}")))?;
            let input = crate::domain::commerce::NewPayment {
                amount,
                method: crate::domain::forms::non_empty(method),
                reference: crate::domain::forms::non_empty(reference),
            };
            let order = orders::add_payment(&state.db, &principal, order_id, input).await?;
            ctx::confirm_form_post(&format!("/orders/{order_id}?done=payment"));
            Ok(order)
        }
        .await,
    )
}

/// Marks an order paid in full (RecordPayments).
#[server(prefix = "/rpc", endpoint = "mark_order_paid")]
pub async fn mark_order_paid(order_id: Uuid) -> Result<Order, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let order = crate::server::service::orders::mark_paid(
                &ctx::state()?.db,
                &ctx::principal()?,
                order_id,
            )
            .await?;
            ctx::confirm_form_post(&format!("/orders/{order_id}?done=paid"));
            Ok(order)
        }
        .await,
    )
}

/// "Sync now": queues one customer or order for one ERP from its current state
/// (IntegrationsManage). `entity_type` is `Customer` or `Order`.
#[server(prefix = "/rpc", endpoint = "sync_record")]
pub async fn sync_record(
    provider: String,
    entity_type: String,
    id: Uuid,
) -> Result<crate::domain::sync::SyncRequestResult, AppError> {
    use super::ctx;
    use crate::server::service::manual_sync::{self, ManualSyncInput, SyncScope};
    ctx::respond(
        async {
            let scope = match entity_type.as_str() {
                "Customer" => SyncScope::Customer,
                "Order" => SyncScope::Order,
                other => {
                    return Err(AppError::BadRequest(format!(
                        "{other:?} cannot be synced; expected Customer or Order."
                    )))
                }
            };
            let input = ManualSyncInput {
                entity_type: scope,
                entity_ids: Some(vec![id]),
                since: None,
            };
            let state = ctx::state()?;
            let result =
                manual_sync::manual_sync(&state.db, &ctx::principal()?, &provider, input).await?;
            let page = if scope == SyncScope::Order {
                "orders"
            } else {
                "customers"
            };
            ctx::confirm_form_post(&format!("/{page}/{id}?done=queued"));
            Ok(crate::domain::sync::SyncRequestResult {
                queued: result.successful,
                already_queued: result.skipped,
                errors: result.errors,
            })
        }
        .await,
    )
}
