//! The QuickBooks reconciliation report and the actions on its rows (IntegrationsManage).

use crate::domain::reconcile::ReconReport;
use crate::error::AppError;
use leptos::prelude::*;

/// The report for the days `from`..=`to` (YYYY-MM-DD; empty: the last 31 days).
#[server(prefix = "/rpc", endpoint = "reconciliation_report")]
pub async fn reconciliation_report(from: String, to: String) -> Result<ReconReport, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            crate::server::service::reconciliation::report(
                &state.db,
                state.qbo.as_ref(),
                &ctx::principal()?,
                given(&from).as_deref(),
                given(&to).as_deref(),
            )
            .await
        }
        .await,
    )
}

/// Re-send, adopt or dismiss one row (an order's, or with `customer_id` a customer's); returns
/// what was done. `back`: the report's URL, where a
/// form posted without JavaScript returns.
#[server(prefix = "/rpc", endpoint = "reconciliation_action")]
pub async fn reconciliation_action(
    action: String,
    kind: String,
    key: String,
    order_id: String,
    customer_id: Option<String>,
    external_id: String,
    back: String,
) -> Result<String, AppError> {
    use super::ctx;
    use crate::domain::reconcile::{DriftKind, ReconActionInput};
    ctx::respond(
        async {
            let kind = DriftKind::ALL
                .into_iter()
                .find(|k| k.code() == kind)
                .ok_or_else(|| {
                    AppError::BadRequest(format!("kind: {kind:?} is not a kind of difference."))
                })?;
            let record = |field: &str, id: &str| match id.trim() {
                "" => Ok(None),
                id => id.parse::<uuid::Uuid>().map(Some).map_err(|_| {
                    AppError::BadRequest(format!("{field}: {id:?} is not a record id."))
                }),
            };
            let order_id = record("order_id", &order_id)?;
            // Absent from a form of an order's row.
            let customer_id = record("customer_id", customer_id.as_deref().unwrap_or(""))?;
            let external_id = Some(external_id.trim().to_string()).filter(|s| !s.is_empty());
            let needs =
                |what: &str| AppError::BadRequest(format!("{action} needs the row's {what}."));
            let input = match (action.as_str(), customer_id) {
                ("Resend", Some(customer_id)) => ReconActionInput::ResendCustomer {
                    key,
                    kind,
                    customer_id,
                },
                ("Adopt", Some(customer_id)) => ReconActionInput::AdoptCustomer {
                    key,
                    kind,
                    customer_id,
                    external_id: external_id.ok_or_else(|| needs("QuickBooks customer"))?,
                },
                ("Resend", None) => ReconActionInput::Resend {
                    key,
                    kind,
                    order_id: order_id.ok_or_else(|| needs("order"))?,
                },
                ("Adopt", None) => ReconActionInput::Adopt {
                    key,
                    kind,
                    order_id: order_id.ok_or_else(|| needs("order"))?,
                    external_id: external_id.ok_or_else(|| needs("QuickBooks invoice"))?,
                },
                ("Dismiss", _) => ReconActionInput::Dismiss { key, kind },
                (other, _) => {
                    return Err(AppError::BadRequest(format!(
                        "action: {other:?} is not Resend, Adopt or Dismiss."
                    )))
                }
            };
            let state = ctx::state()?;
            let done = crate::server::service::reconciliation::act(
                &state.db,
                state.qbo.as_ref(),
                &ctx::principal()?,
                input,
            )
            .await?;
            // Only a path of this console is a place to return to.
            let back = if back.starts_with("/integrations/quickbooks/reconciliation") {
                back
            } else {
                "/integrations/quickbooks/reconciliation".to_string()
            };
            let sep = if back.contains('?') { '&' } else { '?' };
            ctx::confirm_form_post(&format!("{back}{sep}done=reconciled"));
            Ok(done)
        }
        .await,
    )
}
