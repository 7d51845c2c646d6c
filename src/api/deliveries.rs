//! Deliveries as the console steers them: sync runs (backfills), the outbox and the inbox.

use crate::error::AppError;
use leptos::prelude::*;

/// The backfill form (IntegrationsManage): customers, orders or both, optionally only those
/// changed since a day, or only the ids listed (one per line or comma-separated). On success the
/// browser opens the run's progress page.
#[server(prefix = "/rpc", endpoint = "start_sync_run")]
pub async fn start_sync_run(
    provider: String,
    scope: String,
    since: String,
    ids: String,
) -> Result<crate::domain::sync::SyncRequestResult, AppError> {
    use super::ctx;
    use crate::server::service::manual_sync::{self, ManualSyncInput, SyncScope};
    ctx::respond(
        async {
            let entity_type = match scope.as_str() {
                "Customer" => SyncScope::Customer,
                "Order" => SyncScope::Order,
                "All" => SyncScope::All,
                other => {
                    return Err(AppError::BadRequest(format!(
                        "What to sync: {other:?} is not Customer, Order or All."
                    )))
                }
            };
            let since = match since.trim() {
                "" => None,
                day => Some(
                    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                        .map_err(|_| {
                            AppError::BadRequest(format!(
                                "Changed since: {day:?} is not a date (YYYY-MM-DD)."
                            ))
                        })?
                        .and_time(chrono::NaiveTime::MIN)
                        .and_utc(),
                ),
            };
            let mut named = Vec::new();
            for part in ids
                .split([',', '\n', '\r', ' ', '\t'])
                .filter(|s| !s.is_empty())
            {
                named.push(part.parse::<uuid::Uuid>().map_err(|_| {
                    AppError::BadRequest(format!(
                        "Only these records: {part:?} is not a record id."
                    ))
                })?);
            }
            let input = ManualSyncInput {
                entity_type,
                entity_ids: (!named.is_empty()).then_some(named),
                since,
            };
            let state = ctx::state()?;
            let result =
                manual_sync::manual_sync(&state.db, &ctx::principal()?, &provider, input).await?;
            if let Some(run) = result.run_id {
                leptos_axum::redirect(&format!("/integrations/sync-runs/{run}"));
            }
            Ok(crate::domain::sync::SyncRequestResult {
                queued: result.successful,
                already_queued: result.skipped,
                errors: result.errors,
            })
        }
        .await,
    )
}

/// One sync run with its progress (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "get_sync_run")]
pub async fn get_sync_run(id: uuid::Uuid) -> Result<crate::domain::sync::SyncRun, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_runs::get(&ctx::state()?.db, &ctx::principal()?, id).await
        }
        .await,
    )
}

/// The latest sync runs (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "list_sync_runs")]
pub async fn list_sync_runs(
    page: i64,
) -> Result<crate::domain::commerce::Page<crate::domain::sync::SyncRun>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_runs::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(page),
                Some(10),
            )
            .await
        }
        .await,
    )
}

/// A page of the outbox, optionally of one status (IntegrationsManage).
#[server(prefix = "/rpc", endpoint = "list_outbox")]
pub async fn list_outbox(
    status: String,
    page: i64,
) -> Result<crate::domain::commerce::Page<crate::domain::sync::OutboxItem>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let status = Some(status.trim()).filter(|s| !s.is_empty());
            crate::server::service::sync_admin::list_outbox(
                &ctx::state()?.db,
                &ctx::principal()?,
                status,
                Some(page),
                Some(50),
            )
            .await
        }
        .await,
    )
}

/// Re-sends one failed or abandoned row with its record's current state (IntegrationsManage).
#[server(prefix = "/rpc", endpoint = "retry_outbox")]
pub async fn retry_outbox(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_admin::retry_outbox(
                &ctx::state()?.db,
                &ctx::principal()?,
                id,
            )
            .await?;
            ctx::confirm_form_post("/integrations/outbox?done=retried");
            Ok(())
        }
        .await,
    )
}

/// Re-sends every failed and abandoned row of one ERP (IntegrationsManage); how many.
#[server(prefix = "/rpc", endpoint = "retry_all_failed")]
pub async fn retry_all_failed(provider: String) -> Result<u64, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let n = crate::server::service::sync_admin::retry_failed(
                &ctx::state()?.db,
                &ctx::principal()?,
                &provider,
            )
            .await?;
            ctx::confirm_form_post("/integrations/outbox?done=retried");
            Ok(n)
        }
        .await,
    )
}

/// Dismisses one waiting, failed or abandoned row (IntegrationsManage; audited with the reason).
#[server(prefix = "/rpc", endpoint = "dismiss_outbox")]
pub async fn dismiss_outbox(id: uuid::Uuid, reason: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::server::service::sync_admin::{self, DismissInput};
    ctx::respond(
        async {
            let input = DismissInput {
                reason: Some(reason),
            };
            sync_admin::dismiss(&ctx::state()?.db, &ctx::principal()?, id, input).await?;
            ctx::confirm_form_post("/integrations/outbox?done=dismissed");
            Ok(())
        }
        .await,
    )
}

/// A page of the inbox, optionally of one status (IntegrationsManage).
#[server(prefix = "/rpc", endpoint = "list_inbox")]
pub async fn list_inbox(
    status: String,
    page: i64,
) -> Result<crate::domain::commerce::Page<crate::domain::sync::InboxItem>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::inbox_view::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                Some(status.as_str()),
                Some(page),
                Some(50),
            )
            .await
        }
        .await,
    )
}

/// Puts every failed inbox event back in line (IntegrationsManage); how many.
#[server(prefix = "/rpc", endpoint = "retry_inbox_failed")]
pub async fn retry_inbox_failed() -> Result<u64, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let n = crate::server::service::inbox_view::retry(
                &ctx::state()?.db,
                &ctx::principal()?,
                None,
            )
            .await?;
            ctx::confirm_form_post("/integrations/inbox?done=retried");
            Ok(n)
        }
        .await,
    )
}
