//! What the signed-in role may do, for showing only the buttons it may use (the server refuses
//! the rest whatever the page shows).

use leptos::prelude::*;

use crate::app::UserResource;
use crate::domain::Policy;

/// Whether the signed-in user holds `policy` (false while nobody is signed in). Await it inside
/// a `Suspend`: the user is loaded once per page.
pub async fn allowed(policy: Policy) -> bool {
    let user = expect_context::<UserResource>();
    user.await
        .ok()
        .flatten()
        .is_some_and(|u| u.role.allows(policy))
}
