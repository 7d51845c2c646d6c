//! A scriptable ERP adapter, compiled only into the test binary: it answers each delivery with
//! the next scripted outcome and records what it saw, so tests can prove exactly-once claims and
//! the worker's reaction to every kind of failure.

use async_trait::async_trait;
use erp_bridge::server::erp::{Delivered, DeliveryError, ErpAdapter, OutboxEvent};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    Ok,
    Retryable(Option<Duration>),
    Permanent,
    Auth,
    /// 429, or our own pacing: wait this long.
    Throttled(Duration),
    /// Never answers (a process killed mid-call).
    Hang,
}

#[derive(Default)]
pub struct ScriptedAdapter {
    script: Mutex<VecDeque<Step>>,
    pub delay: Option<Duration>,
    /// Events per hand-over (0 or 1: one at a time).
    pub chunk: usize,
    delivered: Mutex<Vec<Uuid>>,
    in_flight: Mutex<HashSet<Uuid>>,
    overlaps: Mutex<Vec<Uuid>>,
}

impl ScriptedAdapter {
    /// Answers Ok to everything.
    pub fn ok() -> Self {
        ScriptedAdapter::default()
    }

    /// Answers Ok to everything after `delay`.
    pub fn slow(delay: Duration) -> Self {
        ScriptedAdapter {
            delay: Some(delay),
            ..Default::default()
        }
    }

    /// Answers with `steps` in order, then Ok.
    pub fn with(steps: impl IntoIterator<Item = Step>) -> Self {
        ScriptedAdapter {
            script: Mutex::new(steps.into_iter().collect()),
            ..Default::default()
        }
    }

    /// Answers each delivery after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Hands over up to `chunk` events at once.
    pub fn chunked(mut self, chunk: usize) -> Self {
        self.chunk = chunk;
        self
    }

    /// Outbox ids it completed successfully, in order.
    pub fn delivered(&self) -> Vec<Uuid> {
        self.delivered.lock().expect("lock").clone()
    }

    /// Ids delivered while another delivery of the same id was still running.
    pub fn overlaps(&self) -> Vec<Uuid> {
        self.overlaps.lock().expect("lock").clone()
    }
}

#[async_trait]
impl ErpAdapter for ScriptedAdapter {
    fn batch_size(&self) -> usize {
        self.chunk.max(1)
    }

    async fn deliver(&self, event: &OutboxEvent) -> Result<Delivered, DeliveryError> {
        if !self.in_flight.lock().expect("lock").insert(event.id) {
            self.overlaps.lock().expect("lock").push(event.id);
        }
        let step = self
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Step::Ok);
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let result = match step {
            Step::Ok => {
                self.delivered.lock().expect("lock").push(event.id);
                Ok(Delivered {
                    skipped: None,
                    external_id: Some(format!("ext-{}", event.entity_id)),
                    request: Some(
                        serde_json::json!({ "payload": event.payload, "access_token": "sekret-token" }),
                    ),
                    response: Some(serde_json::json!({ "Id": "42" })),
                })
            }
            Step::Retryable(retry_after) => Err(DeliveryError::Retryable {
                message: "503 Service Unavailable".into(),
                retry_after,
                request: Some(serde_json::json!({ "Authorization": "Bearer sekret-token" })),
                response: Some(serde_json::json!({ "Fault": "unavailable" })),
            }),
            Step::Permanent => Err(DeliveryError::permanent("6000: business validation error")),
            Step::Auth => Err(DeliveryError::Auth {
                message: "invalid_grant".into(),
            }),
            Step::Throttled(wait) => Err(DeliveryError::Throttled {
                message: "429 Too Many Requests".into(),
                retry_after: Some(wait),
            }),
            Step::Hang => std::future::pending().await,
        };
        self.in_flight.lock().expect("lock").remove(&event.id);
        result
    }
}
