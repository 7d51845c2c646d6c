//! Retention: completed outbox rows, old sync logs, webhook receipts and refusal counts, finished
//! inbox events, audit events and stale sign-in throttling rows are pruned, and stored payloads
//! lose their personal data after a while — all in bounded batches so no statement runs long.

use chrono::TimeDelta;

use crate::server::store::{
    audit, inbox, oauth_states, outbox, sign_in_throttle, sync_logs, webhook_receipts, Db,
    StoreResult,
};
use crate::server::time;

/// Retention settings.
#[derive(Clone, Debug)]
pub struct RetentionConfig {
    /// Completed outbox rows older than this are deleted.
    pub completed_outbox: TimeDelta,
    /// Sync-log payloads older than this are cleared (PRD: 90 days).
    pub payloads: TimeDelta,
    /// Sync logs older than this are deleted.
    pub logs: TimeDelta,
    /// Webhook receipts and refusal counts older than this are deleted.
    pub webhook_receipts: TimeDelta,
    /// Finished (Completed or Skipped) inbox events older than this are deleted; past it, a
    /// re-delivery of the same event id would be taken as new (Intuit retries for hours, not days).
    pub inbox: TimeDelta,
    /// Audit events older than this are deleted.
    pub audit: TimeDelta,
    /// Rows per statement.
    pub batch: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            completed_outbox: TimeDelta::days(30),
            payloads: TimeDelta::days(90),
            logs: TimeDelta::days(365),
            webhook_receipts: TimeDelta::days(30),
            inbox: TimeDelta::days(30),
            audit: TimeDelta::days(730),
            batch: 1000,
        }
    }
}

/// What a retention run removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Outbox rows deleted.
    pub outbox_deleted: u64,
    /// Log payloads cleared.
    pub payloads_scrubbed: u64,
    /// Log rows deleted.
    pub logs_deleted: u64,
    /// Expired OAuth states deleted.
    pub oauth_states_deleted: u64,
    /// Webhook receipts and refusal-count rows deleted.
    pub webhook_receipts_deleted: u64,
    /// Finished inbox events deleted.
    pub inbox_deleted: u64,
    /// Audit events deleted.
    pub audit_deleted: u64,
    /// Stale sign-in throttling rows deleted.
    pub sign_in_rows_deleted: u64,
}

/// Runs `prune` batch by batch until a batch comes back short; returns the total.
async fn drain<F, Fut>(limit: i64, mut prune: F) -> StoreResult<u64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<u64>>,
{
    let full = u64::try_from(limit).unwrap_or(1000);
    let mut total = 0;
    loop {
        let n = prune().await?;
        total += n;
        if n < full {
            return Ok(total);
        }
    }
}

/// Runs every retention rule to completion, batch by batch.
pub async fn run(db: &Db, cfg: &RetentionConfig) -> StoreResult<RetentionReport> {
    let now = time::now();
    let b = cfg.batch;
    let mut report = RetentionReport {
        outbox_deleted: drain(b, || {
            outbox::prune_completed(db, now - cfg.completed_outbox, b)
        })
        .await?,
        payloads_scrubbed: drain(b, || {
            sync_logs::scrub_payloads(db, now - cfg.payloads, now, b)
        })
        .await?,
        logs_deleted: drain(b, || sync_logs::prune(db, now - cfg.logs, b)).await?,
        ..RetentionReport::default()
    };
    report.oauth_states_deleted = oauth_states::prune(db, now).await?;
    report.webhook_receipts_deleted = drain(b, || {
        webhook_receipts::prune(db, now - cfg.webhook_receipts, b)
    })
    .await?
        + webhook_receipts::prune_refusals(db, now - cfg.webhook_receipts).await?;
    report.inbox_deleted = drain(b, || inbox::prune_finished(db, now - cfg.inbox, b)).await?;
    report.audit_deleted = drain(b, || audit::prune(db, now - cfg.audit, b)).await?;
    // A throttling row untouched for a day and blocking nothing has nothing left to say.
    report.sign_in_rows_deleted = drain(b, || {
        sign_in_throttle::prune(db, now - TimeDelta::days(1), now, b)
    })
    .await?;
    Ok(report)
}
