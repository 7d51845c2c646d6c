//! Sync badges: where a record stands with each connected ERP, read from the mappings and the
//! outbox.

use uuid::Uuid;

use crate::domain::connection::Provider;
use crate::domain::sync::{SyncBadge, SyncState};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::outbox::status;
use crate::server::store::{connections, mappings, outbox, Db};

/// One badge per provider the tenant has connected (not disconnected), as `p` may see it:
/// `detail` carries the last error for roles that see sync details (ViewSyncStatus), and
/// `mapping_href` links the ERP id to the mapping viewer for roles that reach the console
/// (IntegrationsView).
pub async fn badges(
    db: &Db,
    p: &Principal,
    entity_type: &str,
    entity_id: Uuid,
) -> Result<Vec<SyncBadge>, AppError> {
    let tenant_id = p.tenant_id;
    let with_detail = p.role.allows(Policy::ViewSyncStatus);
    let with_links = p.role.allows(Policy::IntegrationsView);
    let conns = connections::list(db, tenant_id).await.map_err(store)?;
    let id = entity_id.to_string();
    let mapped = mappings::for_entity(db, tenant_id, entity_type, &id)
        .await
        .map_err(store)?;
    let rows = outbox::for_entity(db, tenant_id, entity_type, &id)
        .await
        .map_err(store)?;
    let mut out = Vec::new();
    for conn in conns.iter().filter(|c| c.status != "NotConnected") {
        let Ok(provider) = conn.provider.parse::<Provider>() else {
            continue;
        };
        let external_id = mapped
            .iter()
            .find(|(p, _)| *p == conn.provider)
            .map(|(_, e)| e.clone());
        // A superseded row stands for nothing: the row that replaced it tells (a re-send
        // shares its sequence number).
        let latest = rows.iter().find(|r| {
            r.target_system.as_deref() == Some(provider.as_str()) && r.status != status::SUPERSEDED
        });
        let state = match latest.map(|r| r.status.as_str()) {
            Some(status::PENDING | status::PROCESSING) => SyncState::Pending,
            Some(status::FAILED) => SyncState::Failed,
            Some(status::ABANDONED) => SyncState::Abandoned,
            Some(status::COMPLETED)
                if latest
                    .and_then(|r| r.last_error.as_deref())
                    .is_some_and(|e| e.starts_with("Skipped")) =>
            {
                if external_id.is_some() {
                    SyncState::Synced
                } else {
                    SyncState::Skipped
                }
            }
            Some(status::COMPLETED) => SyncState::Synced,
            // Neither counts as synced (DESIGN § 14).
            Some(status::DISMISSED) => SyncState::Dismissed,
            Some(_) => SyncState::NotSynced,
            None if external_id.is_some() => SyncState::Synced,
            None => SyncState::NotSynced,
        };
        let failed = matches!(state, SyncState::Failed | SyncState::Abandoned);
        let last_error = latest.and_then(|r| r.last_error.clone());
        let detail = match state {
            _ if !with_detail => None,
            SyncState::Failed | SyncState::Abandoned => last_error,
            // Why it was not sent: settings, or an event the ERP has no use for yet.
            SyncState::Skipped => {
                last_error.map(|e| e.trim_start_matches("Skipped:").trim().to_string())
            }
            _ => None,
        };
        let mapping_href = external_id.as_ref().filter(|_| with_links).map(|_| {
            format!(
                "/integrations/{}/mappings?entity_type={entity_type}&q={id}",
                provider.slug()
            )
        });
        out.push(SyncBadge {
            provider,
            state,
            external_id,
            mapping_href,
            detail,
            outbox_id: if failed { latest.map(|r| r.id) } else { None },
        });
    }
    Ok(out)
}
