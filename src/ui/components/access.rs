//! What the signed-in role may do, for showing only the buttons it may use (the server refuses
//! the rest whatever the page shows). Each page loads the caller once, as its own resource, and
//! awaits it inside its `Suspend` beside its data — so the server render and the hydrated page
//! agree on what is shown.

use leptos::prelude::*;

use crate::api::session::whoami;
use crate::domain::user::CurrentUser;
use crate::domain::{Policy, Role};
use crate::error::AppError;

/// The caller, loaded by the page that shows role-dependent controls.
pub type Caller = Resource<Result<Option<CurrentUser>, AppError>>;

/// Starts loading the caller (call it in the page component, outside its `Suspend`).
pub fn caller() -> Caller {
    Resource::new(|| (), |_| whoami())
}

/// The caller's role, once loaded (None: nobody is signed in).
#[derive(Clone, Copy, Debug)]
pub struct Can(Option<Role>);

impl Can {
    /// Whether the caller holds `policy`.
    pub fn allows(self, policy: Policy) -> bool {
        self.0.is_some_and(|r| r.allows(policy))
    }
}

/// Awaits the caller inside a `Suspend`.
pub async fn can(caller: Caller) -> Can {
    Can(caller.await.ok().flatten().map(|u| u.role))
}
