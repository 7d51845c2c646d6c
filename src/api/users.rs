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

/// Changes a user's role and whether it may sign in (ManageUsers). The "active" checkbox is
/// posted only when ticked; `customer_number` matters only for the Customer role (empty: keep).
#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(
    id: uuid::Uuid,
    role: Role,
    #[server(default)] active: Option<String>,
    #[server(default)] customer_number: String,
) -> Result<UserSummary, AppError> {
    use super::ctx;
    use crate::server::service::user_access::{self, UserUpdate};
    ctx::respond(
        async {
            let customer_number = match customer_number.trim() {
                "" => None,
                n => Some(n.parse::<i64>().map_err(|_| {
                    AppError::BadRequest(format!("{n:?} is not a customer number."))
                })?),
            };
            let input = UserUpdate {
                role: Some(role),
                customer_number: if role == Role::Customer {
                    customer_number
                } else {
                    None
                },
                is_active: Some(active.is_some()),
            };
            let user =
                user_access::update(&ctx::state()?.db, &ctx::principal()?, id, input).await?;
            ctx::confirm_form_post("/admin/users?done=user");
            Ok(user)
        }
        .await,
    )
}
