//! Retention: completed outbox rows and old sync logs are pruned, and stored payloads lose their
//! personal data after a while — all in bounded batches so no statement runs long.

use chrono::TimeDelta;

use crate::server::store::{oauth_states, outbox, sync_logs, Db, StoreResult};
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
    /// Rows per statement.
    pub batch: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            completed_outbox: TimeDelta::days(30),
            payloads: TimeDelta::days(90),
            logs: TimeDelta::days(365),
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
}

/// Runs every retention rule to completion, batch by batch.
pub async fn run(db: &Db, cfg: &RetentionConfig) -> StoreResult<RetentionReport> {
    let now = time::now();
    let limit = u64::try_from(cfg.batch).unwrap_or(1000);
    let mut report = RetentionReport::default();
    loop {
        let n = outbox::prune_completed(db, now - cfg.completed_outbox, cfg.batch).await?;
        report.outbox_deleted += n;
        if n < limit {
            break;
        }
    }
    loop {
        let n = sync_logs::scrub_payloads(db, now - cfg.payloads, now, cfg.batch).await?;
        report.payloads_scrubbed += n;
        if n < limit {
            break;
        }
    }
    loop {
        let n = sync_logs::prune(db, now - cfg.logs, cfg.batch).await?;
        report.logs_deleted += n;
        if n < limit {
            break;
        }
    }
    report.oauth_states_deleted = oauth_states::prune(db, now).await?;
    Ok(report)
}
