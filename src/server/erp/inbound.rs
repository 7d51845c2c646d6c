//! ERP → erp-bridge, the part both connectors share: what an inbound connector does (apply the
//! inbox's due events, pull changes on each connection's schedule) and the loop that runs it
//! as a tokio task until the process stops. QuickBooks pulls by CDC and hears webhooks;
//! NetSuite pulls by SuiteQL watermark. Either way a change becomes an inbox row first (deduped
//! by its event id), so a crash between finding and applying it loses nothing.

use async_trait::async_trait;
use chrono::TimeDelta;
use std::time::Duration;
use tokio::sync::watch;

use crate::server::store::inbox::{self, InboxRow, Outcome};
use crate::server::store::{Db, StoreResult};
use crate::server::time;

/// How long one claim on an inbox event lasts.
const CLAIM_TTL: TimeDelta = TimeDelta::minutes(2);

/// Background settings.
#[derive(Clone, Debug)]
pub struct InboundConfig {
    /// Sleep when the inbox had nothing due.
    pub poll_interval: Duration,
    /// Events per pass.
    pub batch_size: i64,
    /// Run the scheduled pulls (CDC, watermarks).
    pub pull_enabled: bool,
    /// How often to look for connections whose pull is due.
    pub pull_check_interval: Duration,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            poll_interval: Duration::from_millis(500),
            batch_size: 50,
            pull_enabled: true,
            pull_check_interval: Duration::from_secs(60),
        }
    }
}

/// An ERP's inbound side.
#[async_trait]
pub trait Inbound: Send + Sync + 'static {
    /// The ERP's name, for logs.
    fn name(&self) -> &'static str;
    /// Applies one batch of due inbox events; how many were claimed.
    async fn process_inbox_once(&self, limit: i64) -> StoreResult<usize>;
    /// Pulls changes for every connection whose pull frequency has elapsed.
    async fn pull_due(&self) -> StoreResult<()>;
}

/// Claims up to `limit` due inbox events of `provider` for `owner`, applies each with `apply`,
/// logs and counts how it ended, and settles it; how many were claimed.
pub async fn process_due<F, Fut>(
    db: &Db,
    provider: &'static str,
    owner: &str,
    limit: i64,
    apply: F,
) -> StoreResult<usize>
where
    F: Fn(InboxRow) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    let now = time::now();
    let rows = inbox::claim(db, provider, owner, now, now + CLAIM_TTL, limit).await?;
    for row in &rows {
        let outcome = apply(row.clone()).await;
        match &outcome {
            Outcome::Failed(why) => {
                tracing::error!(erp = provider, tenant_id = %row.tenant_id, company = ?row.external_company_id, event = %row.external_event_id, error = %why, "an ERP change could not be applied");
            }
            Outcome::Retry(_, why) => {
                tracing::warn!(erp = provider, tenant_id = %row.tenant_id, company = ?row.external_company_id, event = %row.external_event_id, cause = %why, "an ERP change was postponed");
            }
            _ => {}
        }
        metrics::counter!("inbox_processed_total", "provider" => provider, "outcome" => outcome_name(&outcome)).increment(1);
        inbox::settle(db, row.id, owner, &outcome, time::now()).await?;
    }
    Ok(rows.len())
}

/// A name for this process's claims on inbox events: host, process id and a fresh id, so two
/// connectors or two processes never mistake each other's claims.
pub fn claim_owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{}", std::process::id(), uuid::Uuid::now_v7())
}

/// Try again in `minutes`, for the reason given.
pub fn retry_in(minutes: i64, why: impl Into<String>) -> Outcome {
    Outcome::Retry(time::now() + TimeDelta::minutes(minutes), why.into())
}

/// An outcome's name, for metrics.
pub fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Completed => "completed",
        Outcome::Skipped(_) => "skipped",
        Outcome::Retry(..) => "retry",
        Outcome::Failed(_) => "failed",
    }
}

/// Processes the inbox continuously and runs pulls on schedule until `stop` turns true.
pub async fn run<I: Inbound>(erp: I, config: InboundConfig, mut stop: watch::Receiver<bool>) {
    let mut last_pull: Option<std::time::Instant> = None;
    loop {
        let busy = match erp.process_inbox_once(config.batch_size).await {
            Ok(n) => n > 0,
            Err(err) => {
                tracing::error!(erp = erp.name(), error = %err, "inbox pass failed");
                false
            }
        };
        if config.pull_enabled
            && last_pull.is_none_or(|t| t.elapsed() >= config.pull_check_interval)
        {
            last_pull = Some(std::time::Instant::now());
            if let Err(err) = erp.pull_due().await {
                tracing::error!(erp = erp.name(), error = %err, "pull scheduling failed");
            }
        }
        if *stop.borrow() {
            return;
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(config.poll_interval) => {}
            _ = stop.changed() => return,
        }
    }
}
