//! Who is signed in.

use crate::domain::user::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user, or `None` for an anonymous visitor (the only server function that
/// answers anonymous callers with 200: it is how the UI learns it must offer sign-in).
#[server(prefix = "/rpc", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let Some(principal) = ctx::optional_principal()? else {
                return Ok(None);
            };
            crate::server::service::users::current_user(&ctx::state()?.db, &principal).await
        }
        .await,
    )
}
