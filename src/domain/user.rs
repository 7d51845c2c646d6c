//! What the UI and the JSON API show of users and API tokens.

use super::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The signed-in user as the UI sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CurrentUser {
    /// User id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Name shown in the header.
    pub display_name: String,
    /// Role within the tenant.
    pub role: Role,
    /// The customer a Customer user belongs to.
    pub customer_id: Option<Uuid>,
    /// Tenant display name.
    pub tenant_name: String,
}

/// A user row in the admin's user list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// User id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The customer a Customer user belongs to.
    pub customer_id: Option<Uuid>,
    /// Whether the user may sign in.
    pub is_active: bool,
    /// Last successful sign-in (UTC).
    pub last_login_at: Option<DateTime<Utc>>,
}

/// An API token as listed (never the secret itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenSummary {
    /// Token id.
    pub id: Uuid,
    /// Name given at creation.
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Role the token acts with.
    pub role: Role,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last use (UTC).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A newly created API token: the only time the secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    /// The token as listed from now on.
    pub summary: ApiTokenSummary,
    /// The bearer secret. Shown once; only its hash is stored.
    pub token: String,
}
