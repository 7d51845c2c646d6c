//! A delivery pass's outcomes: each claimed row's settle (delivered, failed with its backoff,
//! abandoned, throttled, handed back unattempted) and its sync-log row, gathered while the pass
//! runs and written together in one fenced transaction at its end.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

use super::retry;
use super::scrub;
use super::worker::{PassStats, WorkerConfig};
use crate::domain::connection::Provider;
use crate::server::erp::{Delivered, DeliveryError};
use crate::server::store::outbox::{self, status, OutboxRow, Settle};
use crate::server::store::sync_logs::{self, SyncLogRow};
use crate::server::store::{Db, StoreResult};
use crate::server::time;

/// Outcomes gathered during a batch, written together at the end.
pub(super) struct Batch {
    token: Uuid,
    diagnostic: bool,
    settles: Vec<Settle>,
    logs: Vec<SyncLogRow>,
    pub(super) stats: PassStats,
}

impl Batch {
    pub(super) fn new(token: Uuid, diagnostic: bool) -> Self {
        Batch {
            token,
            diagnostic,
            settles: Vec::new(),
            logs: Vec::new(),
            stats: PassStats::default(),
        }
    }

    /// Hands a claimed row back as it was, without an attempt.
    pub(super) fn release(&mut self, row: &OutboxRow) {
        self.stats.released += 1;
        self.settles
            .push(unchanged(row, row.scheduled_for, row.last_error.clone()));
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        row: &OutboxRow,
        provider: Provider,
        result: Result<Delivered, DeliveryError>,
        started: DateTime<Utc>,
        elapsed: Duration,
        now: DateTime<Utc>,
        cfg: &WorkerConfig,
    ) {
        let mut log = new_log(row, provider, started, now, elapsed);
        let settle = match result {
            Ok(done) => {
                self.stats.completed += 1;
                log.status = if done.skipped.is_some() {
                    "Skipped"
                } else {
                    "Completed"
                }
                .into();
                log.error_message = done.skipped.clone();
                log.external_id = done.external_id;
                if self.diagnostic {
                    log.request_payload = done.request.as_ref().map(scrub::to_stored);
                    log.response_payload = done.response.as_ref().map(scrub::to_stored);
                }
                Settle {
                    id: row.id,
                    status: status::COMPLETED,
                    processed_at: Some(now),
                    retry_count: row.retry_count,
                    scheduled_for: None,
                    last_error: done.skipped.map(|why| format!("Skipped: {why}")),
                }
            }
            Err(DeliveryError::Throttled {
                message,
                retry_after,
            }) => {
                // Not processed by the ERP: wait as told, at no attempt's cost, and no log row.
                self.stats.throttled += 1;
                let wait = retry_after.unwrap_or(cfg.backoff_unit);
                let next = now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::minutes(1));
                self.settles.push(unchanged(
                    row,
                    Some(next),
                    Some(format!("throttled: {}", scrub::redact_text(&message))),
                ));
                return;
            }
            Err(DeliveryError::Auth { message }) => {
                self.stats.released += 1;
                log.status = "Failed".into();
                log.error_message = Some(format!(
                    "authentication failed: {}",
                    scrub::redact_text(&message)
                ));
                unchanged(row, row.scheduled_for, log.error_message.clone())
            }
            Err(DeliveryError::Permanent {
                message,
                request,
                response,
            }) => {
                self.stats.failed += 1;
                log.status = "Failed".into();
                log.error_message = Some(format!("rejected: {}", scrub::redact_text(&message)));
                log.request_payload = request.as_ref().map(scrub::to_stored);
                log.response_payload = response.as_ref().map(scrub::to_stored);
                Settle {
                    id: row.id,
                    status: status::FAILED,
                    processed_at: None,
                    retry_count: row.retry_count,
                    scheduled_for: None,
                    last_error: log.error_message.clone(),
                }
            }
            Err(DeliveryError::Retryable {
                message,
                retry_after,
                request,
                response,
            }) => {
                let retries = row.retry_count + 1;
                log.status = "Failed".into();
                log.error_message = Some(scrub::redact_text(&message));
                log.request_payload = request.as_ref().map(scrub::to_stored);
                log.response_payload = response.as_ref().map(scrub::to_stored);
                if retries >= row.max_retries {
                    self.stats.abandoned += 1;
                    tracing::error!(outbox_id = %row.id, tenant_id = %row.tenant_id, %provider, entity = %row.entity_type,
                        entity_id = %row.entity_id, error = %scrub::redact_text(&message), "outbox event abandoned after {retries} attempts");
                    Settle {
                        id: row.id,
                        status: status::ABANDONED,
                        processed_at: None,
                        retry_count: retries,
                        scheduled_for: None,
                        last_error: log.error_message.clone(),
                    }
                } else {
                    self.stats.failed += 1;
                    let n = u32::try_from(retries).unwrap_or(u32::MAX);
                    let max = u32::try_from(row.max_retries).unwrap_or(5);
                    let wait =
                        retry::backoff(n, max, cfg.backoff_unit, retry::jitter(), retry_after);
                    let next = now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::minutes(1));
                    Settle {
                        id: row.id,
                        status: status::FAILED,
                        processed_at: None,
                        retry_count: retries,
                        scheduled_for: Some(next),
                        last_error: log.error_message.clone(),
                    }
                }
            }
        };
        self.settles.push(settle);
        self.logs.push(log);
    }

    /// Writes every outcome (fenced by the lease token) and log in one transaction: completed
    /// rows and all logs in one set-based statement each, other outcomes row by row.
    pub(super) async fn flush(self, db: &Db, now: DateTime<Utc>) -> StoreResult<()> {
        if self.settles.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        let (done, other): (Vec<&Settle>, Vec<&Settle>) = self
            .settles
            .iter()
            .partition(|s| s.status == status::COMPLETED);
        let done_ids: Vec<Uuid> = done.iter().map(|s| s.id).collect();
        let settled: HashSet<Uuid> = outbox::settle_completed(&mut tx, self.token, &done_ids, now)
            .await?
            .into_iter()
            .collect();
        // Completions that sent nothing keep their reason, for badges and the log.
        for s in done.iter().filter(|s| settled.contains(&s.id)) {
            if let Some(why) = &s.last_error {
                outbox::note_completion(&mut tx, s.id, why).await?;
            }
        }
        let mut fenced: HashSet<Uuid> = done_ids
            .into_iter()
            .filter(|id| !settled.contains(id))
            .collect();
        for s in other {
            if !outbox::settle(&mut tx, self.token, s).await? {
                fenced.insert(s.id);
            }
        }
        let logs: Vec<SyncLogRow> = self
            .logs
            .into_iter()
            .filter(|l| l.outbox_id.is_none_or(|id| !fenced.contains(&id)))
            .collect();
        sync_logs::insert_many(&mut tx, &logs).await?;
        tx.commit().await?;
        if !fenced.is_empty() {
            tracing::warn!(
                count = fenced.len(),
                "outcomes discarded: rows were taken over by a newer lease"
            );
        }
        Ok(())
    }
}

/// A claimed row handed back with its attempts untouched: Pending before its first attempt,
/// Failed (awaiting its retry) after one.
fn unchanged(
    row: &OutboxRow,
    scheduled_for: Option<DateTime<Utc>>,
    last_error: Option<String>,
) -> Settle {
    Settle {
        id: row.id,
        status: if row.retry_count > 0 {
            status::FAILED
        } else {
            status::PENDING
        },
        processed_at: None,
        retry_count: row.retry_count,
        scheduled_for: scheduled_for.or(Some(time::now())),
        last_error,
    }
}

fn new_log(
    row: &OutboxRow,
    provider: Provider,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    elapsed: Duration,
) -> SyncLogRow {
    SyncLogRow {
        id: Uuid::now_v7(),
        tenant_id: row.tenant_id,
        provider: provider.as_str().to_string(),
        entity_type: row.entity_type.clone(),
        entity_id: Some(row.entity_id.clone()),
        external_id: None,
        event_type: Some(row.event_type.clone()),
        outbox_id: Some(row.id),
        direction: "ToExternal".into(),
        status: "InProgress".into(),
        error_message: None,
        request_payload: None,
        response_payload: None,
        started_at: started,
        completed_at: Some(now),
        duration_ms: i64::try_from(elapsed.as_millis()).ok(),
        retry_count: row.retry_count,
        correlation_id: row.correlation_id,
    }
}
