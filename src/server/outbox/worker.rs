//! The outbox worker: a tokio task started by `serve`. Each pass finds the (tenant, provider)
//! pairs with claimable rows and, for each pair it can lease, claims a batch of heads of line,
//! delivers them through the provider's adapter — never holding a database transaction across an
//! ERP call, heartbeating the lease while a hand-over runs — and settles the outcomes in one
//! fenced transaction with their sync-log rows. Times come from the database's clock (read once
//! per pair pass and advanced by this process's monotonic clock), so skewed hosts agree.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

use super::breaker::{self, BreakerConfig, Gate, PassVerdict};
use super::outcomes::Batch;
use super::scrub;
use crate::domain::connection::Provider;
use crate::server::erp::{deadline, Adapters, DeliveryError, ErpAdapter, OutboxEvent, Progress};
use crate::server::store::outbox::{self, Claim, OutboxRow};
use crate::server::store::{connections, health, leases, Db, StoreResult};
use crate::server::time;

/// Most pairs looked at in one pass.
const MAX_PAIRS_PER_PASS: i64 = 1000;

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
    /// How long one event (or one bulk call) may take before it counts as timed out.
    pub event_deadline: Duration,
    /// How long a pair that yielded nothing (its lease held elsewhere, nothing claimable after
    /// all) is left alone.
    pub idle_backoff: Duration,
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
            event_deadline: Duration::from_secs(45),
            idle_backoff: Duration::from_secs(2),
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
    /// Pairs that yielded nothing, and until when they are left alone.
    resting: Arc<Mutex<HashMap<(Uuid, Provider), Instant>>>,
}

/// What one pass over one pair did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    /// Rows claimed.
    pub claimed: usize,
    /// Delivered.
    pub completed: usize,
    /// Failed (will retry or needs a manual retry).
    pub failed: usize,
    /// Retries exhausted.
    pub abandoned: usize,
    /// Told to wait (429 or our own pacing): rescheduled without using an attempt.
    pub throttled: usize,
    /// Returned unattempted (auth failure, throttling, a failing ERP, lost lease).
    pub released: usize,
}

impl PassStats {
    fn add(&mut self, o: PassStats) {
        self.claimed += o.claimed;
        self.completed += o.completed;
        self.failed += o.failed;
        self.abandoned += o.abandoned;
        self.throttled += o.throttled;
        self.released += o.released;
    }
}

/// The database's clock as read at the start of a pair pass, advanced by the monotonic clock.
#[derive(Clone, Copy)]
struct PassClock {
    db_now: DateTime<Utc>,
    read_at: Instant,
}

impl PassClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.read_at.elapsed()).unwrap_or(TimeDelta::zero());
        time::truncate(self.db_now + elapsed)
    }
}

/// Why a pass stopped handing rows to the adapter before its claim ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The lease was lost (or could not be renewed): our outcomes would be fenced anyway.
    LeaseLost,
    /// The ERP refused our credentials: the connection is parked.
    Auth,
    /// The ERP (or our pacing) asked us to wait.
    Throttled,
    /// Every attempt so far failed on the ERP's side: stop hammering it.
    Failing,
}

impl OutboxWorker {
    /// A worker over `db` delivering through `adapters`.
    pub fn new(db: Db, adapters: Adapters, config: WorkerConfig) -> Self {
        OutboxWorker {
            db,
            adapters,
            config,
            resting: Arc::default(),
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

    /// One pass over every pair with claimable work. A pass that finds none writes nothing.
    pub async fn run_once(&self) -> StoreResult<PassStats> {
        let mut total = PassStats::default();
        let now = self.db.now().await?;
        for (tenant_id, provider) in outbox::due_pairs(&self.db, now, MAX_PAIRS_PER_PASS).await? {
            let Ok(provider) = provider.parse::<Provider>() else {
                continue;
            };
            if self.is_resting(tenant_id, provider) {
                continue;
            }
            match self.process_pair(tenant_id, provider).await {
                Ok(stats) => {
                    if stats.claimed == 0 {
                        self.rest(tenant_id, provider);
                    }
                    total.add(stats);
                }
                // One pair's failure must not stop the others'.
                Err(err) => {
                    self.rest(tenant_id, provider);
                    tracing::error!(%tenant_id, %provider, error = %err, "outbox delivery for a pair failed")
                }
            }
        }
        Ok(total)
    }

    fn is_resting(&self, tenant_id: Uuid, provider: Provider) -> bool {
        let mut resting = self.resting.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        resting.retain(|_, until| *until > now);
        resting.contains_key(&(tenant_id, provider))
    }

    fn rest(&self, tenant_id: Uuid, provider: Provider) {
        let until = Instant::now() + self.config.idle_backoff;
        let mut resting = self.resting.lock().unwrap_or_else(|e| e.into_inner());
        resting.insert((tenant_id, provider), until);
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
        let clock = PassClock {
            db_now: self.db.now().await?,
            read_at: Instant::now(),
        };
        let now = clock.now();
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
            .deliver_leased(tenant_id, provider, adapter.as_ref(), token, clock)
            .await;
        if let Err(err) = leases::release(&self.db, key, token, clock.now()).await {
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
        clock: PassClock,
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
        let now = clock.now();
        let health_row = health::get(&self.db, tenant_id, provider.as_str()).await?;
        let gate = breaker::gate(&health_row, now);
        let limit = match gate {
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
        batch.stats.claimed = rows.len();
        let mut stop: Option<Stop> = None;
        let mut failure = None;
        let (mut succeeded, mut erp_failures, mut last_erp_error) = (0usize, 0i64, None);
        // Any failure's text, for the dashboard's "last error" (the breaker only counts ERP-side ones).
        let mut last_failure: Option<String> = None;
        let beat = lease_beat(self.config.lease_ttl);
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        let mut rows = rows.into_iter().peekable();
        let chunk_max = adapter.batch_size().max(1);
        while rows.peek().is_some() {
            // Claims hold heads of line only, so no chunk carries two rows of one record group.
            let chunk: Vec<OutboxRow> = rows.by_ref().take(chunk_max).collect();
            if stop.is_some() {
                chunk.iter().for_each(|row| batch.release(row));
                continue;
            }
            let events: Vec<_> = chunk
                .iter()
                .map(|r| to_event(r, provider, conn.external_company_id.clone()))
                .collect();
            let (started, began) = (clock.now(), Instant::now());
            let mut progress = Progress::new(events.len(), self.config.event_deadline);
            match self
                .hand_over(
                    adapter,
                    &events,
                    &mut progress,
                    &mut heartbeat,
                    key,
                    token,
                    clock,
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(%tenant_id, %provider, "outbox lease lost mid-batch; stopping");
                    stop = Some(Stop::LeaseLost);
                }
                Err(err) => {
                    failure = Some(err);
                    stop = Some(Stop::LeaseLost);
                }
            }
            let elapsed = began.elapsed();
            for (row, outcome) in chunk.iter().zip(progress.outcomes()) {
                let Some(result) = outcome else {
                    batch.release(row); // never started: costs nothing
                    continue;
                };
                if let Err(e) = &result {
                    if !matches!(e, DeliveryError::Throttled { .. }) {
                        last_failure = Some(scrub::redact_text(&e.to_string()));
                    }
                }
                match &result {
                    Ok(_) => succeeded += 1,
                    Err(DeliveryError::Retryable { message, .. }) => {
                        erp_failures += 1;
                        last_erp_error = Some(scrub::redact_text(message));
                    }
                    Err(DeliveryError::Throttled { .. }) => stop = stop.or(Some(Stop::Throttled)),
                    Err(DeliveryError::Auth { message }) => {
                        tracing::error!(%tenant_id, %provider, error = %scrub::redact_text(message), "ERP refused our credentials; connection needs reconnecting");
                        metrics::counter!("outbox_auth_failures_total", "provider" => provider.as_str()).increment(1);
                        let marked = connections::mark_reconnect_required(
                            &self.db,
                            tenant_id,
                            provider.as_str(),
                            conn.external_company_id.as_deref(),
                            message,
                            clock.now(),
                        );
                        if let Err(err) = marked.await {
                            failure = Some(err);
                        }
                        stop = stop.or(Some(Stop::Auth));
                    }
                    Err(DeliveryError::Permanent { .. }) => {}
                }
                batch.record(
                    row,
                    provider,
                    result,
                    started,
                    elapsed,
                    clock.now(),
                    &self.config,
                );
            }
            if succeeded == 0 && erp_failures >= self.config.breaker.threshold {
                stop = stop.or(Some(Stop::Failing));
            }
        }
        let stats = batch.stats;
        let held = stop != Some(Stop::LeaseLost);
        batch.flush(&self.db, clock.now()).await?;
        record_metrics(provider, stats);
        if let Some(err) = failure {
            return Err(err);
        }
        if held {
            let verdict = match (succeeded, last_erp_error) {
                (1.., _) => PassVerdict::Succeeded,
                (0, Some(error)) => PassVerdict::Failed(error),
                (0, None) => PassVerdict::Inconclusive,
            };
            let next = breaker::after_pass(
                &health_row,
                gate,
                &verdict,
                &self.config.breaker,
                clock.now(),
            );
            if next != health_row {
                if next.state == "Open" && health_row.state != "Open" {
                    tracing::warn!(%tenant_id, %provider, until = ?next.open_until, "circuit breaker opened: deliveries paused");
                }
                health::put(&self.db, tenant_id, provider.as_str(), &next, clock.now()).await?;
            }
            if stats.completed > 0 {
                connections::touch_last_sync(&self.db, tenant_id, provider.as_str(), clock.now())
                    .await?;
            } else if let Some(error) = &last_failure {
                connections::record_sync_error(&self.db, tenant_id, provider.as_str(), error)
                    .await?;
            }
        }
        Ok(stats)
    }

    /// Hands `events` to the adapter while heartbeating the lease. Nothing is cancelled while
    /// the lease holds: each event's own deadline bounds the adapter, and a backstop (every
    /// event's deadline in a row, twice) bounds an adapter that ignores it; neither counts
    /// waits on pacing. Returns false when the lease
    /// was lost (the hand-over is dropped: its outcomes would be fenced anyway).
    #[allow(clippy::too_many_arguments)]
    async fn hand_over(
        &self,
        adapter: &dyn ErpAdapter,
        events: &[OutboxEvent],
        progress: &mut Progress,
        heartbeat: &mut tokio::time::Interval,
        key: (Uuid, &str, &str),
        token: Uuid,
        clock: PassClock,
    ) -> StoreResult<bool> {
        let n = u32::try_from(events.len()).unwrap_or(u32::MAX);
        let backstop = self.config.event_deadline.saturating_mul(n.max(1)) * 2;
        let delivery = deadline::within(backstop, adapter.deliver_batch(events, progress));
        tokio::pin!(delivery);
        loop {
            tokio::select! {
                _ = &mut delivery => return Ok(true),
                _ = heartbeat.tick() => {
                    if !self.heartbeat(key, token, clock.now()).await? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Extends the lease and the claims made under it; false when the lease is no longer ours.
    async fn heartbeat(
        &self,
        key: (Uuid, &str, &str),
        token: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
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
