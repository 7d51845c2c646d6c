//! How a batch of outbox events goes to NetSuite, which has no batch endpoint for records:
//! side by side, as many at a time as the client keeps requests in flight, in rounds of lanes
//! so that two events never write one customer at once, and stopping early as the worker
//! stops between chunks.

use futures_util::StreamExt;
use serde_json::Value;

use super::adapter::NetSuiteAdapter;
use super::connector::PROVIDER;
use crate::server::erp::{deadline, Delivered, DeliveryError, ErpAdapter, OutboxEvent, Progress};
use crate::server::store::mappings::{self, Scope};

/// NetSuite has no batch endpoint for records, so a batch's events go out side by side (the
/// client's limiter paces them below NetSuite's concurrency limit), in rounds. Events that
/// may write the same customer — a customer's own event, and an order whose customer is
/// not mapped yet (it is matched and upserted first) — share a lane when the customer's
/// name is the same, and a round runs only the first event of each lane: two upserts never
/// race for one external id, and one free NetSuite customer is never adopted twice. The
/// next round looks again, so once the first order has mapped its customer, the rest of
/// that customer's orders go side by side. The worker's own stops act inside the batch
/// ([`Brake`]): after an authentication refusal, a 429, or a run of ERP-side failures with
/// no success, no further event starts (those never started cost nothing).
pub(super) async fn deliver(
    adapter: &NetSuiteAdapter,
    events: &[OutboxEvent],
    progress: &mut Progress,
) {
    let brake = Brake::default();
    let mut remaining: Vec<usize> = (0..events.len()).collect();
    while !remaining.is_empty() && !brake.stopped() {
        let subset: Vec<OutboxEvent> = remaining.iter().map(|&i| events[i].clone()).collect();
        let writes = adapter.writes_customer(&subset).await;
        let round: Vec<usize> = customer_lanes(&subset, &writes)
            .into_iter()
            .filter_map(|lane| lane.first().map(|&pos| remaining[pos]))
            .collect();
        adapter
            .deliver_side_by_side(events, &round, progress, &brake)
            .await;
        remaining.retain(|i| !round.contains(i));
    }
}

impl NetSuiteAdapter {
    /// Delivers the events at `which` side by side, as many at a time as the client keeps
    /// requests in flight; each is marked started when it starts (never while merely queued)
    /// and finished as it ends. The events share the task's pacing ledger, so a pacing wait of
    /// any lengthens all their deadlines — lenient, and never charging a wait on pacing
    /// ([`deadline`]).
    async fn deliver_side_by_side(
        &self,
        events: &[OutboxEvent],
        which: &[usize],
        progress: &mut Progress,
        brake: &Brake,
    ) {
        enum Step {
            Started(usize),
            Finished(usize, Option<Result<Delivered, DeliveryError>>),
        }
        fn record(step: Step, progress: &mut Progress) {
            match step {
                Step::Started(i) => progress.start(i),
                Step::Finished(i, result) => {
                    let result = result.unwrap_or_else(|| Err(progress.timed_out()));
                    progress.finish(i, result);
                }
            }
        }
        let deadline = progress.deadline();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runs: Vec<_> = which
            .iter()
            .map(|&i| {
                let tx = tx.clone();
                async move {
                    if brake.stopped() {
                        return; // never started: released at no cost
                    }
                    let _ = tx.send(Step::Started(i));
                    let result = deadline::within(deadline, self.deliver(&events[i])).await;
                    brake.observe(result.as_ref());
                    let _ = tx.send(Step::Finished(i, result));
                }
            })
            .collect();
        drop(tx);
        let all = futures_util::stream::iter(runs)
            .buffer_unordered(self.ns.client.concurrency())
            .for_each(|_| async {});
        tokio::pin!(all);
        let mut running = true;
        while running {
            tokio::select! {
                step = rx.recv() => match step {
                    Some(step) => record(step, progress),
                    None => running = false,
                },
                _ = &mut all, if running => {
                    while let Ok(step) = rx.try_recv() {
                        record(step, progress);
                    }
                    running = false;
                }
            }
        }
    }

    /// Per event, whether delivering it may write a customer: a customer's own event always;
    /// an order's when its customer is not mapped yet (or that cannot be read: assume it does).
    async fn writes_customer(&self, events: &[OutboxEvent]) -> Vec<bool> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let customer = e
                .payload
                .get("customer")
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str);
            let (Some(company), Some(customer), false) = (
                e.external_company_id.as_deref(),
                customer,
                e.entity_type == "Customer",
            ) else {
                out.push(true);
                continue;
            };
            let scope = Scope {
                tenant_id: e.tenant_id,
                provider: PROVIDER,
                external_company_id: company,
                entity_type: "Customer",
            };
            let mapped = mappings::by_ours(&self.db, scope, customer).await;
            out.push(!matches!(mapped, Ok(Some(_))));
        }
        out
    }
}

/// What stops a batch from starting more events, as the worker stops between chunks: an
/// authentication refusal, a 429, or `threshold` ERP-side failures with no success (the
/// breaker's unit). Rejected payloads never stop it.
struct Brake {
    stopped: std::sync::atomic::AtomicBool,
    failures: std::sync::atomic::AtomicUsize,
    succeeded: std::sync::atomic::AtomicBool,
    threshold: usize,
}

impl Default for Brake {
    fn default() -> Self {
        Brake {
            stopped: Default::default(),
            failures: Default::default(),
            succeeded: Default::default(),
            threshold: 3,
        }
    }
}

impl Brake {
    fn stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Takes an event's end into account (None: it ran past its deadline).
    fn observe(&self, result: Option<&Result<Delivered, DeliveryError>>) {
        use std::sync::atomic::Ordering::SeqCst;
        match result {
            Some(Ok(_)) => self.succeeded.store(true, SeqCst),
            Some(Err(DeliveryError::Auth { .. } | DeliveryError::Throttled { .. })) => {
                self.stopped.store(true, SeqCst)
            }
            Some(Err(DeliveryError::Permanent { .. })) => {}
            Some(Err(DeliveryError::Retryable { .. })) | None => {
                let failures = self.failures.fetch_add(1, SeqCst) + 1;
                if failures >= self.threshold && !self.succeeded.load(SeqCst) {
                    self.stopped.store(true, SeqCst);
                }
            }
        }
    }
}

/// The batch's events in lanes: the events that write a customer (`writes_customer[i]`) share
/// a lane when they name the same customer — by id or by name (a rename between two events, or
/// two customers of one name for the adoption rule) — each lane in the batch's order; every
/// other event has its own.
fn customer_lanes(events: &[OutboxEvent], writes_customer: &[bool]) -> Vec<Vec<usize>> {
    let mut lanes: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let customer = e.payload.get("customer");
        let text = |k: &str| customer.and_then(|c| c.get(k)).and_then(Value::as_str);
        let keys: Vec<String> = if writes_customer.get(i).copied().unwrap_or(true) {
            [
                text("name").map(|n| format!("name:{}", n.trim().to_lowercase())),
                text("id").map(|id| format!("id:{id}")),
            ]
            .into_iter()
            .flatten()
            .collect()
        } else {
            Vec::new()
        };
        let found = (!keys.is_empty())
            .then(|| {
                lanes
                    .iter_mut()
                    .find(|(ks, _)| ks.iter().any(|k| keys.contains(k)))
            })
            .flatten();
        match found {
            Some((ks, lane)) => {
                lane.push(i);
                ks.extend(keys);
            }
            None => lanes.push((keys, vec![i])),
        }
    }
    lanes.into_iter().map(|(_, lane)| lane).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::connection::Provider;
    use serde_json::json;
    use uuid::Uuid;

    fn renamed(entity_type: &str, customer: &str, id: &str) -> OutboxEvent {
        let mut e = event(entity_type, customer);
        e.payload["customer"]["id"] = json!(id);
        e
    }

    #[test]
    fn a_customer_renamed_between_two_events_keeps_them_in_one_lane() {
        let events = [
            renamed("Customer", "Acme Inc", "c1"),
            renamed("Order", "Acme", "c1"),
            renamed("Order", "Other", "c2"),
        ];
        assert_eq!(
            customer_lanes(&events, &[true, true, true]),
            vec![vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn the_brake_stops_a_batch_as_the_worker_stops_between_chunks() {
        let retryable = || Some(Err(DeliveryError::retryable("HTTP 500")));
        let b = Brake::default();
        b.observe(Some(&Err(DeliveryError::permanent("bad data"))));
        b.observe(retryable().as_ref());
        b.observe(None);
        assert!(!b.stopped(), "two failures are not a run yet");
        b.observe(retryable().as_ref());
        assert!(b.stopped(), "three ERP-side failures and no success");
        let b = Brake::default();
        b.observe(Some(&Ok(Delivered::default())));
        for _ in 0..5 {
            b.observe(retryable().as_ref());
        }
        assert!(!b.stopped(), "a success in the batch: the ERP answers");
        let b = Brake::default();
        b.observe(Some(&Err(DeliveryError::Auth {
            message: "401".into(),
        })));
        assert!(b.stopped(), "credentials refused");
    }

    fn event(entity_type: &str, customer: &str) -> OutboxEvent {
        OutboxEvent {
            id: Uuid::now_v7(),
            tenant_id: Uuid::nil(),
            provider: Provider::NetSuite,
            external_company_id: None,
            event_type: "OrderPaid".into(),
            entity_type: entity_type.into(),
            entity_id: Uuid::now_v7().to_string(),
            payload: json!({ "customer": { "name": customer } }),
            idempotency_key: String::new(),
            retry_count: 0,
            correlation_id: None,
        }
    }

    #[test]
    fn events_that_may_write_one_customer_share_a_lane_in_batch_order() {
        let events = [
            event("Order", "Acme"),
            event("Order", "Globex"),
            event("Customer", " acme "),
            event("Order", "Initech"),
            event("Order", "GLOBEX"),
        ];
        let all = [true; 5];
        assert_eq!(
            customer_lanes(&events, &all),
            vec![vec![0, 2], vec![1, 4], vec![3]]
        );
        // Orders of a mapped customer write only their sales orders: lanes of their own.
        let mapped = [false, false, true, false, false];
        assert_eq!(
            customer_lanes(&events, &mapped),
            vec![vec![0], vec![1], vec![2], vec![3], vec![4]]
        );
        let nameless = [event("Order", "A"), event("Payment", "B")].map(|mut e| {
            e.payload = json!({});
            e
        });
        assert_eq!(
            customer_lanes(&nameless, &[true, true]),
            vec![vec![0], vec![1]]
        );
    }
}
