//! The admin's user screen.

use crate::domain::user::UserSummary;
use crate::domain::Role;
use crate::error::AppError;
use leptos::prelude::*;

/// The tenant's users (ManageUsers).
#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    use super::ctx;
    ctx::respond(
        async { crate::server::service::users::list(&ctx::state()?.db, &ctx::principal()?).await }
            .await,
    )
}

/// Adds a user (ManageUsers). `customer_number` is required for, and only for, the Customer role.
#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    display_name: String,
    role: Role,
    password: String,
    #[server(default)] customer_number: String,
) -> Result<UserSummary, AppError> {
    use super::ctx;
    use crate::server::service::users;
    ctx::respond(
        async {
            let principal = ctx::principal()?;
            let customer_number = match customer_number.trim() {
                "" => None,
                n => Some(n.parse::<i64>().map_err(|_| {
                    AppError::BadRequest(format!("{n:?} is not a customer number."))
                })?),
            };
            let input = users::NewUserInput {
                email,
                display_name: Some(display_name),
                role,
                customer_number,
                password: secrecy::SecretString::from(password),
            };
            users::create(&ctx::state()?.db, &principal, input).await
        }
        .await,
    )
}
