//! An Admin changes a user's access (ManageUsers): the role (a Customer user belongs to a
//! customer) and whether the user may sign in. The change applies to the user's next request
//! (roles are read on every request); it is audited with what it was before. The tenant always
//! keeps one active Admin, and nobody deactivates themselves.

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::user::UserSummary;
use crate::domain::{Policy, Role};
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::{internal, store};
use crate::server::store::{audit, customers, users, Db};
use crate::server::time;

/// A change to a user's access; fields left out keep their value.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// The customer a Customer user belongs to (required when the role becomes Customer).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub customer_number: Option<i64>,
    /// Whether the user may sign in.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Applies `input` to user `id` of the caller's tenant.
pub async fn update(
    db: &Db,
    p: &Principal,
    id: Uuid,
    input: UserUpdate,
) -> Result<UserSummary, AppError> {
    p.require(Policy::ManageUsers)?;
    let mut tx = db.begin().await.map_err(store)?;
    users::lock_tenant_access(&mut tx, p.tenant_id)
        .await
        .map_err(store)?;
    let before = users::find_in(&mut tx, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let old_role: Role = before.role.parse().map_err(internal)?;
    let role = input.role.unwrap_or(old_role);
    let is_active = input.is_active.unwrap_or(before.is_active);
    let customer_id = match (role, input.customer_number) {
        (Role::Customer, Some(n)) => Some(
            customers::find_id_by_number(db, p.tenant_id, n)
                .await
                .map_err(store)?
                .ok_or_else(|| AppError::Conflict(format!("There is no customer number {n}.")))?,
        ),
        // Both below conflict with the role the user has or is given (409, as the document
        // says: its schema cannot tie `customer_number` to the role).
        (Role::Customer, None) => Some(before.customer_id.ok_or_else(|| {
            AppError::Conflict("A Customer user needs the customer number it belongs to.".into())
        })?),
        (_, Some(_)) => {
            return Err(AppError::Conflict(
                "Only Customer users belong to a customer.".into(),
            ))
        }
        (_, None) => None,
    };
    if !is_active && p.user_id() == Some(id) {
        return Err(AppError::Conflict("You cannot deactivate yourself.".into()));
    }
    let stays_admin = role == Role::Admin && is_active;
    if old_role == Role::Admin
        && before.is_active
        && !stays_admin
        && users::other_active_admins(&mut tx, p.tenant_id, id)
            .await
            .map_err(store)?
            == 0
    {
        return Err(AppError::Conflict(
            "This is the last active Admin: make another user Admin first.".into(),
        ));
    }
    users::set_access(
        &mut tx,
        p.tenant_id,
        id,
        role.as_str(),
        customer_id,
        is_active,
    )
    .await
    .map_err(store)?;
    let event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: "user.access_changed".into(),
        entity_type: "User".into(),
        entity_id: id.to_string(),
        order_id: None,
        before_json: Some(
            serde_json::json!({ "role": before.role, "customer_id": before.customer_id, "is_active": before.is_active })
                .to_string(),
        ),
        after_json: Some(
            serde_json::json!({ "role": role.as_str(), "customer_id": customer_id, "is_active": is_active })
                .to_string(),
        ),
        request_id: None,
        created_at: time::now(),
    };
    audit::record(&mut tx, &event).await.map_err(store)?;
    tx.commit().await.map_err(store)?;
    super::users::get(db, p, id).await
}
