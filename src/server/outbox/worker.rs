//! The outbox worker: a tokio task started by `serve`. Each pass finds (tenant, provider) pairs
//! with due rows and, for each pair it can lease, claims a batch, delivers it through the
//! provider's adapter — never holding a database transaction across an ERP call — and settles
//! the outcomes in one fenced transaction with their sync-log rows.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

use super::breaker::{self, BreakerConfig, Gate};
use super::retry;
use super::scrub;
use crate::domain::connection::Provider;
use crate::server::erp::{Adapters, Delivered, DeliveryError, ErpAdapter, OutboxEvent};
use crate::server::store::outbox::{self, status, Claim, OutboxRow, Settle};
use crate::server::store::sync_logs::SyncLogRow;
use crate::server::store::{connections, health, leases, sync_logs, Db, StoreResult};
use crate::server::time;

/// Worker settings.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// This process's worker id (lease owner).
    pub owner: String,
    /// Sleep between passes that found no work.
    pub poll_interval: Duration,
    /// Rows claimed per (tenant, provider) per pass.
    pub batch_size: i64,
    /// Lease and claim lifetime; renewed by heartbeats while delivering.
    pub lease_ttl: TimeDelta,
    /// One backoff unit (a minute in production; tests shrink it).
    pub backoff_unit: Duration,
    /// Circuit breaker.
    pub breaker: BreakerConfig,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            owner: format!("{}-{}", hostname(), Uuid::new_v4().simple()),
            poll_interval: Duration::from_millis(500),
            batch_size: 200,
            lease_ttl: TimeDelta::seconds(30),
            backoff_unit: Duration::from_secs(60),
            breaker: BreakerConfig::default(),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "erp-bridge".to_string())
}

/// Delivers due outbox rows.
#[derive(Clone, Debug)]
pub struct OutboxWorker {
    db: Db,
    adapters: Adapters,
    config: WorkerConfig,
}

/// What one pass over one pair did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Delivered.
    pub completed: usize,
    /// Failed (will retry or needs a manual retry).
    pub failed: usize,
    /// Retries exhausted.
    pub abandoned: usize,
    /// Returned unattempted (auth failure, breaker, same-entity ordering, lost lease).
    pub released: usize,
}

impl PassStats {
    fn add(&mut self, o: PassStats) {
        self.completed += o.completed;
        self.failed += o.failed;
        self.abandoned += o.abandoned;
        self.released += o.released;
    }
}

impl OutboxWorker {
    /// A worker over `db` delivering through `adapters`.
    pub fn new(db: Db, adapters: Adapters, config: WorkerConfig) -> Self {
        OutboxWorker {
            db,
            adapters,
            config,
        }
    }

    /// Runs passes until `shutdown` turns true. Errors are logged and the loop goes on.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.config.owner, "outbox worker started");
        loop {
            let busy = match self.run_once().await {
                Ok(stats) => stats.completed + stats.failed + stats.abandoned > 0,
                Err(err) => {
                    tracing::error!(error = %err, "outbox pass failed");
                    false
                }
            };
            if *shutdown.borrow() {
                break;
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!(owner = %self.config.owner, "outbox worker stopped");
    }

    /// One pass over every pair with due work.
    pub async fn run_once(&self) -> StoreResult<PassStats> {
        let mut total = PassStats::default();
        for (tenant_id, provider) in outbox::due_pairs(&self.db, time::now(), 500).await? {
            let Ok(provider) = provider.parse::<Provider>() else {
                continue;
            };
            match self.process_pair(tenant_id, provider).await {
                Ok(stats) => total.add(stats),
                // One pair's failure must not stop the others'.
                Err(err) => {
                    tracing::error!(%tenant_id, %provider, error = %err, "outbox delivery for a pair failed")
                }
            }
        }
        Ok(total)
    }

    /// Delivers one batch of one (tenant, provider), if its lease, connection and breaker allow.
    pub async fn process_pair(
        &self,
        tenant_id: Uuid,
        provider: Provider,
    ) -> StoreResult<PassStats> {
        let Some(adapter) = self.adapters.get(provider) else {
            return Ok(PassStats::default());
        };
        let now = time::now();
        let key = (tenant_id, provider.as_str(), "outbox");
        let Some(token) = leases::acquire(
            &self.db,
            key,
            &self.config.owner,
            now,
            now + self.config.lease_ttl,
        )
        .await?
        else {
            return Ok(PassStats::default()); // another process holds it
        };
        let result = self
            .deliver_leased(tenant_id, provider, adapter.as_ref(), token)
            .await;
        if let Err(err) = leases::release(&self.db, key, token, time::now()).await {
            tracing::warn!(%tenant_id, %provider, error = %err, "could not release the outbox lease; it will expire");
        }
        result
    }

    /// The work done under a held lease. Once rows are claimed their outcomes are always
    /// flushed, even when something else fails mid-batch, so nothing delivered is sent again.
    async fn deliver_leased(
        &self,
        tenant_id: Uuid,
        provider: Provider,
        adapter: &dyn ErpAdapter,
        token: Uuid,
    ) -> StoreResult<PassStats> {
        let key = (tenant_id, provider.as_str(), "outbox");
        // Read under the lease, so the state acted on is the state the owner last wrote.
        let Some(conn) = connections::worker_view(&self.db, tenant_id, provider.as_str()).await?
        else {
            return Ok(PassStats::default());
        };
        if conn.status != "Connected" {
            return Ok(PassStats::default()); // parked until an Admin reconnects
        }
        let now = time::now();
        let mut health_row = health::get(&self.db, tenant_id, provider.as_str()).await?;
        let limit = match breaker::gate(&health_row, now) {
            Gate::Paused => return Ok(PassStats::default()),
            Gate::Probe => 1,
            Gate::Open => self.config.batch_size,
        };
        let claim = Claim {
            tenant_id,
            provider: provider.as_str(),
            lease_token: token,
            owner: &self.config.owner,
            now,
            until: now + self.config.lease_ttl,
            limit,
        };
        let rows = outbox::claim(&self.db, &claim).await?;
        let mut batch = Batch::new(token, conn.diagnostic_until.is_some_and(|t| t > now));
        let (mut stop, mut held, mut failure) = (false, true, None);
        let mut last_beat = Instant::now();
        let mut queue: std::collections::VecDeque<OutboxRow> = rows.into();
        let chunk_max = adapter.batch_size().max(1);
        while let Some(row) = queue.pop_front() {
            if stop || batch.entity_blocked(&row) {
                batch.release(&row);
                continue;
            }
            if last_beat.elapsed() > lease_beat(self.config.lease_ttl) {
                last_beat = Instant::now();
                match self.heartbeat(key, token).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%tenant_id, %provider, "outbox lease lost mid-batch; stopping");
                        (held, stop) = (false, true);
                        batch.release(&row);
                        continue;
                    }
                    Err(err) => {
                        (failure, stop) = (Some(err), true);
                        batch.release(&row);
                        continue;
                    }
                }
            }
            // Hand the adapter as many rows as it takes at once, never two of one record
            // (the later one waits for the earlier one's outcome).
            let mut chunk = vec![row];
            while chunk.len() < chunk_max {
                let Some(next) = queue.front() else { break };
                let same_record = chunk
                    .iter()
                    .any(|r| r.entity_type == next.entity_type && r.entity_id == next.entity_id);
                if same_record || batch.entity_blocked(next) {
                    break;
                }
                if let Some(next) = queue.pop_front() {
                    chunk.push(next);
                }
            }
            let events: Vec<_> = chunk
                .iter()
                .map(|r| to_event(r, provider, conn.external_company_id.clone()))
                .collect();
            let (started, clock) = (time::now(), Instant::now());
            // A call may not outlive the lease: past half its lifetime it counts as a timeout
            // (the ERP may still have applied it; its idempotency key makes the retry safe).
            let limit = (self.config.lease_ttl / 2)
                .to_std()
                .unwrap_or(Duration::from_secs(15));
            let mut results = tokio::time::timeout(limit, adapter.deliver_batch(&events))
                .await
                .unwrap_or_default();
            results.resize_with(events.len(), || {
                Err(DeliveryError::retryable(format!(
                    "no answer within {} s",
                    limit.as_secs()
                )))
            });
            let elapsed = clock.elapsed();
            for (row, result) in chunk.iter().zip(results) {
                match &result {
                    Ok(_) => health_row = breaker::on_success(&health_row),
                    Err(DeliveryError::Retryable { message, .. }) => {
                        health_row = breaker::on_failure(
                            &health_row,
                            &self.config.breaker,
                            time::now(),
                            message,
                        );
                        stop = stop || breaker::gate(&health_row, time::now()) != Gate::Open;
                    }
                    Err(DeliveryError::Auth { message }) => {
                        tracing::error!(%tenant_id, %provider, error = %scrub::redact_text(message), "ERP refused our credentials; connection needs reconnecting");
                        metrics::counter!("outbox_auth_failures_total", "provider" => provider.as_str()).increment(1);
                        let marked = connections::mark_reconnect_required(
                            &self.db,
                            tenant_id,
                            provider.as_str(),
                            message,
                            time::now(),
                        );
                        if let Err(err) = marked.await {
                            failure = Some(err);
                        }
                        stop = true;
                    }
                    Err(DeliveryError::Permanent { .. }) => {}
                }
                batch.record(row, provider, result, started, elapsed, &self.config);
            }
        }
        let stats = batch.stats;
        batch.flush(&self.db).await?;
        record_metrics(provider, stats);
        if let Some(err) = failure {
            return Err(err);
        }
        if held {
            health::put(
                &self.db,
                tenant_id,
                provider.as_str(),
                &health_row,
                time::now(),
            )
            .await?;
            if stats.completed > 0 {
                connections::touch_last_sync(&self.db, tenant_id, provider.as_str(), time::now())
                    .await?;
            }
        }
        Ok(stats)
    }

    /// Extends the lease and the claims made under it; false when the lease is no longer ours.
    async fn heartbeat(&self, key: (Uuid, &str, &str), token: Uuid) -> StoreResult<bool> {
        let now = time::now();
        let until = now + self.config.lease_ttl;
        if !leases::heartbeat(&self.db, key, token, now, until).await? {
            return Ok(false);
        }
        outbox::extend_claims(&self.db, token, until).await?;
        Ok(true)
    }
}

fn lease_beat(ttl: TimeDelta) -> Duration {
    (ttl / 3).to_std().unwrap_or(Duration::from_secs(5))
}

fn to_event(
    row: &OutboxRow,
    provider: Provider,
    external_company_id: Option<String>,
) -> OutboxEvent {
    OutboxEvent {
        id: row.id,
        tenant_id: row.tenant_id,
        provider,
        external_company_id,
        event_type: row.event_type.clone(),
        entity_type: row.entity_type.clone(),
        entity_id: row.entity_id.clone(),
        payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
        idempotency_key: row
            .idempotency_key
            .clone()
            .unwrap_or_else(|| row.id.to_string()),
        retry_count: row.retry_count,
        correlation_id: row.correlation_id,
    }
}

fn record_metrics(provider: Provider, s: PassStats) {
    let p = provider.as_str();
    metrics::counter!("outbox_delivered_total", "provider" => p).increment(s.completed as u64);
    metrics::counter!("outbox_failed_total", "provider" => p).increment(s.failed as u64);
    metrics::counter!("outbox_abandoned_total", "provider" => p).increment(s.abandoned as u64);
}

/// Outcomes gathered during a batch, written together at the end.
struct Batch {
    token: Uuid,
    diagnostic: bool,
    settles: Vec<Settle>,
    logs: Vec<SyncLogRow>,
    failed_entities: HashSet<(String, String)>,
    stats: PassStats,
}

impl Batch {
    fn new(token: Uuid, diagnostic: bool) -> Self {
        Batch {
            token,
            diagnostic,
            settles: Vec::new(),
            logs: Vec::new(),
            failed_entities: HashSet::new(),
            stats: PassStats::default(),
        }
    }

    /// A later event of an entity whose earlier event just failed waits, to keep their order.
    fn entity_blocked(&self, row: &OutboxRow) -> bool {
        self.failed_entities
            .contains(&(row.entity_type.clone(), row.entity_id.clone()))
    }

    fn release(&mut self, row: &OutboxRow) {
        self.stats.released += 1;
        self.settles.push(Settle {
            id: row.id,
            status: if row.retry_count > 0 {
                status::FAILED
            } else {
                status::PENDING
            },
            processed_at: None,
            retry_count: row.retry_count,
            scheduled_for: row.scheduled_for.or(Some(time::now())),
            last_error: row.last_error.clone(),
        });
    }

    fn record(
        &mut self,
        row: &OutboxRow,
        provider: Provider,
        result: Result<Delivered, DeliveryError>,
        started: DateTime<Utc>,
        elapsed: Duration,
        cfg: &WorkerConfig,
    ) {
        let now = time::now();
        let mut log = new_log(row, provider, started, now, elapsed);
        let settle = match result {
            Ok(done) => {
                self.stats.completed += 1;
                log.status = "Completed".into();
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
                    last_error: None,
                }
            }
            Err(DeliveryError::Auth { message }) => {
                self.stats.released += 1;
                log.status = "Failed".into();
                log.error_message = Some(format!(
                    "authentication failed: {}",
                    scrub::redact_text(&message)
                ));
                Settle {
                    id: row.id,
                    status: status::PENDING,
                    processed_at: None,
                    retry_count: row.retry_count,
                    scheduled_for: row.scheduled_for,
                    last_error: log.error_message.clone(),
                }
            }
            Err(DeliveryError::Permanent {
                message,
                request,
                response,
            }) => {
                self.stats.failed += 1;
                self.failed_entities
                    .insert((row.entity_type.clone(), row.entity_id.clone()));
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
                self.failed_entities
                    .insert((row.entity_type.clone(), row.entity_id.clone()));
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
    async fn flush(self, db: &Db) -> StoreResult<()> {
        if self.settles.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin().await?;
        let (done, other): (Vec<&Settle>, Vec<&Settle>) = self
            .settles
            .iter()
            .partition(|s| s.status == status::COMPLETED);
        let done_ids: Vec<Uuid> = done.iter().map(|s| s.id).collect();
        let settled: HashSet<Uuid> =
            outbox::settle_completed(&mut tx, self.token, &done_ids, time::now())
                .await?
                .into_iter()
                .collect();
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
