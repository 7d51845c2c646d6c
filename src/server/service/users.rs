//! Users: sign-in with lock-out, the current user, and the admin's user management.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::user::{CurrentUser, UserSummary};
use crate::domain::{Policy, Role};
use crate::error::AppError;
use crate::server::auth::{password, Principal};
use crate::server::service::errors::{internal, store};
use crate::server::store::{audit, customers, tenants, users, Db, StoreError};
use crate::server::time;

/// The signed-in user as the UI shows it (None for API tokens, which have no user).
pub async fn current_user(db: &Db, principal: &Principal) -> Result<Option<CurrentUser>, AppError> {
    let Some(user_id) = principal.user_id() else {
        return Ok(None);
    };
    let Some(user) = users::find(db, principal.tenant_id, user_id)
        .await
        .map_err(store)?
    else {
        return Ok(None);
    };
    let tenant = tenants::find(db, principal.tenant_id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    Ok(Some(CurrentUser {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: principal.role,
        customer_id: user.customer_id,
        tenant_name: tenant.name,
    }))
}

/// Lists the tenant's users (ManageUsers).
pub async fn list(db: &Db, principal: &Principal) -> Result<Vec<UserSummary>, AppError> {
    principal.require(Policy::ManageUsers)?;
    let rows = users::list(db, principal.tenant_id).await.map_err(store)?;
    rows.into_iter()
        .map(|u| {
            Ok(UserSummary {
                role: u.role.parse::<Role>().map_err(internal)?,
                id: u.id,
                email: u.email,
                display_name: u.display_name,
                customer_id: u.customer_id,
                is_active: u.is_active,
                last_login_at: u.last_login_at,
            })
        })
        .collect()
}

/// Finds one user of the tenant (ManageUsers); another tenant's id is `NotFound`.
pub async fn get(db: &Db, principal: &Principal, id: Uuid) -> Result<UserSummary, AppError> {
    principal.require(Policy::ManageUsers)?;
    list(db, principal)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)
}

/// What an admin submits to add a user. Its document schema is written by hand below: the
/// Customer role, and only it, needs `customer_number`, which a derived schema cannot say.
#[derive(Debug, Deserialize)]
pub struct NewUserInput {
    /// Login email.
    pub email: String,
    /// Display name (defaults to the email).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Role.
    pub role: Role,
    /// Required for the Customer role: the customer's number.
    #[serde(default)]
    pub customer_number: Option<i64>,
    /// Initial password (at least 12 characters).
    pub password: SecretString,
}

/// What [`is_plausible_email`] accepts (a subset: no surrounding spaces). U+0085 is whitespace to
/// Rust but not to a JSON Schema (ECMA-262) `\s`, so it is named as well.
const EMAIL_PATTERN: &str = "^[^\\s\u{85}@]+@[^\\s\u{85}]*\\.[^\\s\u{85}]*$";

impl utoipa::PartialSchema for NewUserInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, SchemaType, Type,
        };
        let text = |what: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(what))
        };
        let branch = |roles: &[&str], customer: bool| {
            let common = ObjectBuilder::new()
                .property(
                    "email",
                    text("Login email, unique across tenants.").pattern(Some(EMAIL_PATTERN)),
                )
                .required("email")
                .property(
                    "display_name",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
                        .description(Some("Display name (defaults to the email).")),
                )
                .property(
                    "role",
                    text("Role.").enum_values(Some(roles.iter().copied())),
                )
                .required("role")
                .property(
                    "password",
                    text("Initial password.")
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
                        .min_length(Some(password::MIN_PASSWORD_LEN)),
                )
                .required("password");
            if customer {
                common
                    .property(
                        "customer_number",
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                            .description(Some(
                                "The number of the customer this user belongs to (409 when there is none).",
                            )),
                    )
                    .required("customer_number")
            } else {
                common.property(
                    "customer_number",
                    ObjectBuilder::new()
                        .schema_type(Type::Null)
                        .description(Some("Only Customer users belong to a customer.")),
                )
            }
        };
        OneOfBuilder::new()
            .description(Some(
                "A staff user, or a Customer user with the number of its customer.",
            ))
            .item(branch(&["Admin", "SalesManager", "SalesRep"], false))
            .item(branch(&["Customer"], true))
            .into()
    }
}

impl utoipa::ToSchema for NewUserInput {}

/// Adds a user to the caller's tenant (ManageUsers).
pub async fn create(
    db: &Db,
    principal: &Principal,
    input: NewUserInput,
) -> Result<UserSummary, AppError> {
    principal.require(Policy::ManageUsers)?;
    let id = insert_user(
        db,
        principal.tenant_id,
        input,
        principal.actor.kind(),
        &principal.actor.id().to_string(),
    )
    .await?;
    get(db, principal, id).await
}

/// Validates and inserts a user, with an audit event; shared by the admin UI, the API and the CLI.
pub async fn insert_user(
    db: &Db,
    tenant_id: Uuid,
    input: NewUserInput,
    actor_kind: &str,
    actor_id: &str,
) -> Result<Uuid, AppError> {
    let email = normalize_email(&input.email);
    if !is_plausible_email(&email) {
        return Err(AppError::BadRequest(format!(
            "{:?} is not an email address.",
            input.email
        )));
    }
    if input.password.expose_secret().chars().count() < password::MIN_PASSWORD_LEN {
        return Err(AppError::BadRequest(format!(
            "The password must have at least {} characters.",
            password::MIN_PASSWORD_LEN
        )));
    }
    let customer_id = match (input.role, input.customer_number) {
        (Role::Customer, Some(n)) => Some(
            customers::find_id_by_number(db, tenant_id, n)
                .await
                .map_err(store)?
                .ok_or_else(|| AppError::Conflict(format!("There is no customer number {n}.")))?,
        ),
        (Role::Customer, None) => {
            return Err(AppError::BadRequest(
                "A Customer user needs the customer number it belongs to.".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(AppError::BadRequest(
                "Only Customer users belong to a customer.".into(),
            ))
        }
        (_, None) => None,
    };
    let hash = password::hash(input.password).await;
    let now = time::now();
    let row = users::UserRow {
        id: Uuid::now_v7(),
        tenant_id,
        display_name: input
            .display_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.clone()),
        email,
        password_hash: hash,
        role: input.role.as_str().to_string(),
        customer_id,
        is_active: true,
        failed_login_count: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now,
    };
    let mut tx = db.begin().await.map_err(store)?;
    users::insert(&mut tx, &row).await.map_err(|e| match e {
        StoreError::Duplicate(_) => {
            AppError::Conflict(format!("A user with email {} already exists.", row.email))
        }
        other => store(other),
    })?;
    audit::record(
        &mut tx,
        &audit::AuditEvent {
            tenant_id: Some(tenant_id),
            actor_kind: actor_kind.to_string(),
            actor_id: Some(actor_id.to_string()),
            action: "user.created".into(),
            entity_type: "User".into(),
            entity_id: row.id.to_string(),
            order_id: None,
            before_json: None,
            after_json: Some(
                serde_json::json!({ "email": row.email, "role": row.role }).to_string(),
            ),
            request_id: None,
            created_at: now,
        },
    )
    .await
    .map_err(store)?;
    tx.commit().await.map_err(store)?;
    Ok(row.id)
}

/// Emails are compared case-insensitively: stored and looked up trimmed and lower-case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Admin@Demo.Example "),
            "admin@demo.example"
        );
        assert!(is_plausible_email("a@b.example"));
        assert!(!is_plausible_email("no-at-sign"));
        assert!(!is_plausible_email("@b.example"));
        assert!(!is_plausible_email("a b@c.example"));
    }
}
