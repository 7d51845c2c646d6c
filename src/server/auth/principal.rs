//! The caller of a request: who, in which tenant, with which role. Built once per request by
//! [`super::resolve`] and passed to every service function, which checks its policy with
//! [`Principal::require`].

use crate::domain::{Policy, Role};
use crate::error::AppError;
use uuid::Uuid;

/// How the caller authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (browser session).
    User(Uuid),
    /// A script with an API token.
    ApiToken(Uuid),
    /// erp-bridge itself, applying what an ERP reported (never a request's caller).
    System,
}

impl Actor {
    /// `User` or `ApiToken`, as recorded in audit events.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "User",
            Actor::ApiToken(_) => "ApiToken",
            Actor::System => "System",
        }
    }

    /// The user or token id.
    pub fn id(&self) -> Uuid {
        match self {
            Actor::User(id) | Actor::ApiToken(id) => *id,
            Actor::System => Uuid::nil(),
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The tenant every query is scoped to.
    pub tenant_id: Uuid,
    /// Who.
    pub actor: Actor,
    /// Role (a token's role for API tokens).
    pub role: Role,
    /// The customer a Customer user belongs to.
    pub customer_id: Option<Uuid>,
}

impl Principal {
    /// erp-bridge acting inside `tenant_id` on an ERP's behalf (inbound sync). Built only by
    /// background processing, never from a request.
    pub fn system(tenant_id: Uuid) -> Principal {
        Principal {
            tenant_id,
            actor: Actor::System,
            role: Role::Admin,
            customer_id: None,
        }
    }

    /// Ok when the role holds `policy`, else `Forbidden`.
    pub fn require(&self, policy: Policy) -> Result<(), AppError> {
        if self.role.allows(policy) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The user id, for actions only a signed-in user (not a token) may take.
    pub fn user_id(&self) -> Option<Uuid> {
        match self.actor {
            Actor::User(id) => Some(id),
            Actor::ApiToken(_) | Actor::System => None,
        }
    }
}

/// The request extension holding the resolved caller, if any.
#[derive(Clone, Debug, Default)]
pub struct CurrentPrincipal(pub Option<Principal>);

impl CurrentPrincipal {
    /// The principal, or `Unauthenticated`.
    pub fn required(&self) -> Result<Principal, AppError> {
        self.0.clone().ok_or(AppError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_follows_the_policy_table() {
        let p = Principal {
            tenant_id: Uuid::nil(),
            actor: Actor::User(Uuid::nil()),
            role: Role::SalesManager,
            customer_id: None,
        };
        assert!(p.require(Policy::IntegrationsView).is_ok());
        assert_eq!(
            p.require(Policy::IntegrationsManage),
            Err(AppError::Forbidden)
        );
    }
}
