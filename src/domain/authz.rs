//! The one authorization table of erp-bridge (PRD § 5.4, DESIGN § 5).
//!
//! Every server function, JSON handler and navigation link asks [`Role::allows`]; nothing else
//! decides who may do what. Tenant scoping is separate: it is enforced by every store query.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The four roles of the commerce platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    /// Full integration management.
    Admin,
    /// Integration dashboard, logs and retry requests; no configuration.
    SalesManager,
    /// Order and customer sync status only.
    SalesRep,
    /// A customer's own orders and their sync badges.
    Customer,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::SalesManager,
        Role::SalesRep,
        Role::Customer,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::SalesManager => "SalesManager",
            Role::SalesRep => "SalesRep",
            Role::Customer => "Customer",
        }
    }

    /// A human label ("Sales manager").
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::SalesManager => "Sales manager",
            Role::SalesRep => "Sales rep",
            Role::Customer => "Customer",
        }
    }

    /// Whether this role holds `policy`.
    pub fn allows(self, policy: Policy) -> bool {
        use Role::*;
        match policy {
            Policy::SignedIn => true,
            Policy::ViewSyncStatus => matches!(self, Admin | SalesManager | SalesRep),
            Policy::IntegrationsView
            | Policy::RequestRetry
            | Policy::ManageCatalog
            | Policy::RecordPayments => {
                matches!(self, Admin | SalesManager)
            }
            Policy::ViewCommerce | Policy::ManageCommerce => {
                matches!(self, Admin | SalesManager | SalesRep)
            }
            Policy::IntegrationsManage | Policy::ManageUsers | Policy::ManageApiTokens => {
                matches!(self, Admin)
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parse error for [`Role`].
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}; expected one of Admin, SalesManager, SalesRep, Customer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A named capability (policy names follow the PRD where it has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Policy {
    /// Any signed-in user of the tenant.
    SignedIn,
    /// Order and customer sync status (not the integration console).
    ViewSyncStatus,
    /// PRD IntegrationsView: dashboard, logs (read), mappings, error summaries.
    IntegrationsView,
    /// Re-queue one failed sync from its log entry.
    RequestRetry,
    /// PRD IntegrationsManage: connect/disconnect, settings, manual and bulk sync, outbox, export.
    IntegrationsManage,
    /// Create and list the tenant's users.
    ManageUsers,
    /// Create, list and revoke the tenant's API tokens.
    ManageApiTokens,
    /// See customers and all orders (Customer users see only their own orders).
    ViewCommerce,
    /// Create and change customers and orders, and order item statuses.
    ManageCommerce,
    /// Create and change products.
    ManageCatalog,
    /// Record payments and mark orders paid.
    RecordPayments,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prd_policies_match_the_design_table() {
        let view: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Policy::IntegrationsView))
            .collect();
        assert_eq!(view, vec![Role::Admin, Role::SalesManager]);
        let manage: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Policy::IntegrationsManage))
            .collect();
        assert_eq!(manage, vec![Role::Admin]);
        assert!(!Role::Customer.allows(Policy::ViewSyncStatus));
        assert!(Role::SalesRep.allows(Policy::ViewSyncStatus));
        assert!(!Role::SalesRep.allows(Policy::RequestRetry));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert_eq!(
            "salesmanager".parse::<Role>().ok(),
            Some(Role::SalesManager)
        );
        assert!("Root".parse::<Role>().is_err());
    }
}
