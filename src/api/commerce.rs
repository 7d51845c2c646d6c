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
