//! The boundary between the sync engine and the ERPs: the [`ErpAdapter`] trait every connector
//! implements, the canonical event it receives, and the three kinds of failure the engine
//! distinguishes (retryable, permanent, authentication).

pub mod deadline;
pub mod inbound;
pub mod netsuite;
pub mod quickbooks;

use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use crate::domain::connection::Provider;

/// One outbox event as a connector sees it.
#[derive(Clone, Debug)]
pub struct OutboxEvent {
    /// Outbox row id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Target ERP.
    pub provider: Provider,
    /// The ERP company (realm / account) the tenant is connected to.
    pub external_company_id: Option<String>,
    /// `OrderPaid`, `CustomerCreated`, …
    pub event_type: String,
    /// `Order`, `Customer`, `Payment`.
    pub entity_type: String,
    /// Our record id.
    pub entity_id: String,
    /// The canonical record at the time of the event.
    pub payload: Value,
    /// Stable across retries: derive the ERP's idempotency key (QBO requestid, …) from it.
    pub idempotency_key: String,
    /// Failed attempts before this one.
    pub retry_count: i64,
    /// Ties related events.
    pub correlation_id: Option<Uuid>,
}

/// A successful delivery.
#[derive(Clone, Debug, Default)]
pub struct Delivered {
    /// The ERP's id of the record written, if any.
    pub external_id: Option<String>,
    /// What was sent (kept only in diagnostic mode; secrets are scrubbed before storing).
    pub request: Option<Value>,
    /// What came back (same rule).
    pub response: Option<Value>,
    /// Nothing was sent, and why (an event this ERP has no use for yet): the row is finished,
    /// but the record is not in the ERP because of it.
    pub skipped: Option<String>,
}

impl Delivered {
    /// Nothing to send for this event, for the reason given.
    pub fn skipped(why: &str) -> Delivered {
        Delivered {
            skipped: Some(why.to_string()),
            ..Delivered::default()
        }
    }
}

/// Why a delivery failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (5xx, 429, timeouts). `retry_after` is the ERP's own hint.
    #[error("retryable: {message}")]
    Retryable {
        /// What happened.
        message: String,
        /// The ERP's Retry-After, if it sent one.
        retry_after: Option<Duration>,
        /// Request, for the sync log.
        request: Option<Value>,
        /// Response, for the sync log.
        response: Option<Value>,
    },
    /// The ERP rejected the data; retrying the same data cannot succeed.
    #[error("rejected: {message}")]
    Permanent {
        /// The ERP's reason.
        message: String,
        /// Request, for the sync log.
        request: Option<Value>,
        /// Response, for the sync log.
        response: Option<Value>,
    },
    /// The ERP refused our credentials: the connection needs an Admin to reconnect.
    #[error("authentication failed: {message}")]
    Auth {
        /// What the ERP said (never a token).
        message: String,
    },
    /// The ERP (429) or our own pacing asked us to wait: the event was not processed. Waiting
    /// costs no attempt and never trips the circuit breaker.
    #[error("throttled: {message}")]
    Throttled {
        /// What happened.
        message: String,
        /// How long to wait, when known.
        retry_after: Option<Duration>,
    },
}

impl DeliveryError {
    /// A retryable error with only a message.
    pub fn retryable(message: impl Into<String>) -> Self {
        DeliveryError::Retryable {
            message: message.into(),
            retry_after: None,
            request: None,
            response: None,
        }
    }

    /// A permanent error with only a message.
    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError::Permanent {
            message: message.into(),
            request: None,
            response: None,
        }
    }
}

/// A part of an event's payload (`order`, `customer`, `payment`) as its type; a payload that
/// does not hold it is a permanent failure (retrying the same event cannot help).
pub fn parse_payload<T: serde::de::DeserializeOwned>(
    v: Option<&Value>,
    what: &str,
) -> Result<T, DeliveryError> {
    serde_json::from_value(v.cloned().unwrap_or(Value::Null))
        .map_err(|e| DeliveryError::permanent(format!("the event carries no readable {what}: {e}")))
}

/// A connector: delivers canonical events to one ERP. Implementations must be idempotent for a
/// given `idempotency_key`: the engine delivers at least once.
#[async_trait]
pub trait ErpAdapter: Send + Sync + 'static {
    /// Delivers one event.
    async fn deliver(&self, event: &OutboxEvent) -> Result<Delivered, DeliveryError>;

    /// How many events the worker may hand over at once (1: one at a time).
    fn batch_size(&self) -> usize {
        1
    }

    /// Delivers several events (never two of the same record), recording in `progress` when
    /// each is started and how it ended. The worker may stop waiting at any await point (a
    /// deadline, a lost lease): what `progress` holds then decides which events were attempted.
    /// The default delivers them one by one, each under the per-event deadline (time waiting on
    /// pacing not counted: [`deadline`]); a connector
    /// with a bulk endpoint (QuickBooks batch) does better.
    async fn deliver_batch(&self, events: &[OutboxEvent], progress: &mut Progress) {
        for (i, e) in events.iter().enumerate() {
            progress.start(i);
            let result = deadline::within(progress.deadline(), self.deliver(e))
                .await
                .unwrap_or_else(|| Err(progress.timed_out()));
            progress.finish(i, result);
        }
    }
}

/// The outcome of a hand-over so far: which events were started and how each ended. It lives
/// outside the delivery future, so it survives that future being dropped.
#[derive(Debug)]
pub struct Progress {
    deadline: Duration,
    started: Vec<bool>,
    results: Vec<Option<Result<Delivered, DeliveryError>>>,
}

impl Progress {
    /// Progress over `n` events, each allowed `deadline`.
    pub fn new(n: usize, deadline: Duration) -> Self {
        Progress {
            deadline,
            started: vec![false; n],
            results: vec![None; n],
        }
    }

    /// How long one event (or one bulk call) may take, not counting waits on pacing
    /// ([`deadline::within`]).
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The error of an event that ran past its deadline (the ERP may still have applied it; its
    /// idempotency key makes the retry safe).
    pub fn timed_out(&self) -> DeliveryError {
        DeliveryError::retryable(format!(
            "no answer within {} s",
            self.deadline.as_secs_f64()
        ))
    }

    /// Event `i` is about to be sent.
    pub fn start(&mut self, i: usize) {
        if let Some(s) = self.started.get_mut(i) {
            *s = true;
        }
    }

    /// Event `i` ended with `result`.
    pub fn finish(&mut self, i: usize, result: Result<Delivered, DeliveryError>) {
        self.start(i);
        if let Some(r) = self.results.get_mut(i) {
            *r = Some(result);
        }
    }

    /// Per event: its result; a timeout for one started and never finished; None for one never
    /// started (not attempted: it costs nothing).
    pub fn outcomes(self) -> Vec<Option<Result<Delivered, DeliveryError>>> {
        let timed_out = self.timed_out();
        self.started
            .into_iter()
            .zip(self.results)
            .map(|(started, result)| match (started, result) {
                (_, Some(r)) => Some(r),
                (true, None) => Some(Err(timed_out.clone())),
                (false, None) => None,
            })
            .collect()
    }
}

/// The connectors available to this process, by provider.
#[derive(Clone, Default)]
pub struct Adapters {
    by_provider: HashMap<Provider, Arc<dyn ErpAdapter>>,
}

impl std::fmt::Debug for Adapters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapters")
            .field("providers", &self.by_provider.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Adapters {
    /// No connectors.
    pub fn new() -> Self {
        Adapters::default()
    }

    /// Adds (or replaces) the connector for `provider`.
    pub fn with(mut self, provider: Provider, adapter: Arc<dyn ErpAdapter>) -> Self {
        self.by_provider.insert(provider, adapter);
        self
    }

    /// The connector for `provider`.
    pub fn get(&self, provider: Provider) -> Option<Arc<dyn ErpAdapter>> {
        self.by_provider.get(&provider).cloned()
    }
}
