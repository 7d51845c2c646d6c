//! Tenants (created by operators through the CLI, or by demo seeding).

use uuid::Uuid;

use crate::error::AppError;
use crate::server::service::errors::store;
use crate::server::store::{tenants, Db, StoreError};
use crate::server::time;

/// Creates a tenant; the slug must be unique, lower-case letters, digits and dashes.
pub async fn create(db: &Db, slug: &str, name: &str) -> Result<tenants::Tenant, AppError> {
    let slug = slug.trim().to_lowercase();
    let valid = !slug.is_empty()
        && slug.len() <= 50
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(AppError::BadRequest(
            "A tenant slug is 1-50 lower-case letters, digits or dashes.".into(),
        ));
    }
    if name.trim().is_empty() {
        return Err(AppError::BadRequest("A tenant needs a name.".into()));
    }
    let tenant = tenants::Tenant {
        id: Uuid::now_v7(),
        name: name.trim().to_string(),
        slug,
        created_at: time::now(),
    };
    let mut tx = db.begin().await.map_err(store)?;
    tenants::insert(&mut tx, &tenant)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => AppError::Conflict(format!(
                "A tenant with slug {} already exists.",
                tenant.slug
            )),
            other => store(other),
        })?;
    tx.commit().await.map_err(store)?;
    Ok(tenant)
}
