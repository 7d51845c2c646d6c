//! Webhook ingestion rules: route each notification to the tenant connected to its company
//! (unique (provider, external_company_id)), write it to the inbox once, and record the POST's
//! receipt in the same transaction. Unroutable events are kept in the receipt only. Refused POSTs
//! leave no row each: [`RefusalTally`] counts them per (provider, minute, outcome).

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;

use crate::server::erp::quickbooks::webhook::Notification;
use crate::server::store::inbox::{self, InboxRow};
use crate::server::store::webhook_receipts::{self, Receipt};
use crate::server::store::{connections, Backend, Db, StoreError};

/// The provider these webhooks come from.
pub const PROVIDER: &str = "QuickBooks";

/// Routes and stores the notifications with the receipt; returns (new events, unroutable events).
pub async fn ingest_quickbooks(
    db: &Db,
    writer: &InboxWriter,
    mut receipt: Receipt,
    notifications: &[Notification],
) -> Result<(usize, usize), StoreError> {
    let realms: BTreeSet<&str> = notifications.iter().map(|n| n.realm_id.as_str()).collect();
    let mut tenants = Vec::new();
    for realm in &realms {
        tenants.push((
            *realm,
            connections::tenant_for_company(db, PROVIDER, realm).await?,
        ));
    }
    let tenant_of = |realm: &str| {
        tenants
            .iter()
            .find(|(r, _)| *r == realm)
            .and_then(|(_, t)| *t)
    };
    let routed_tenants: BTreeSet<Uuid> = tenants.iter().filter_map(|(_, t)| *t).collect();
    let unroutable = notifications
        .iter()
        .filter(|n| tenant_of(&n.realm_id).is_none())
        .count();
    if unroutable > 0 {
        tracing::warn!(unroutable, realms = ?realms, "QuickBooks webhook events for companies no tenant is connected to");
    }
    receipt.external_company_id =
        Some(realms.iter().copied().collect::<Vec<_>>().join(",")).filter(|s| !s.is_empty());
    receipt.tenant_id = (routed_tenants.len() == 1)
        .then(|| routed_tenants.iter().next().copied())
        .flatten();
    receipt.routed = unroutable == 0;
    receipt.event_count = i64::try_from(notifications.len()).unwrap_or(i64::MAX);
    let rows: Vec<InboxRow> = notifications
        .iter()
        .filter_map(|n| {
            let tenant_id = tenant_of(&n.realm_id)?;
            Some(InboxRow {
                id: Uuid::now_v7(),
                tenant_id,
                provider: PROVIDER.into(),
                external_event_id: n.event_id.clone(),
                external_company_id: Some(n.realm_id.clone()),
                event_type: Some(n.operation.clone()),
                entity_type: Some(n.entity.clone()),
                entity_id: Some(n.entity_id.clone()),
                payload: Some(
                    json!({ "entity": n.entity, "id": n.entity_id, "operation": n.operation, "occurred_at": n.occurred_at })
                        .to_string(),
                ),
                received_at: receipt.received_at,
                status: "Pending".into(),
            })
        })
        .collect();
    let new = writer.write(receipt, rows).await?;
    Ok((new, unroutable))
}

/// A job for the [`InboxWriter`].
struct Job {
    receipt: Receipt,
    rows: Vec<InboxRow>,
    done: oneshot::Sender<Result<usize, StoreError>>,
}

/// Most POSTs written in one transaction.
const MAX_GROUP: usize = 64;

/// Group commit for webhook POSTs: concurrent requests hand their rows and receipt to one task,
/// which writes whatever has queued up — one inbox `INSERT` for all their events, their
/// receipts, one commit — and answers each request once its rows are durable. Under load this
/// turns dozens of commits into one (SQLite has a single writer; PostgreSQL pays per commit);
/// alone, a request is written at once.
#[derive(Clone, Debug)]
pub struct InboxWriter {
    jobs: mpsc::Sender<Job>,
}

impl InboxWriter {
    /// Starts the writer tasks over `db`: one for SQLite (it has one writer anyway), a few for
    /// PostgreSQL, whose connections commit in parallel.
    pub fn start(db: Db) -> InboxWriter {
        let (jobs, rx) = mpsc::channel(1024);
        let rx = Arc::new(Mutex::new(rx));
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run_writer(db.clone(), rx.clone()));
        }
        InboxWriter { jobs }
    }

    /// Writes `rows` and `receipt` durably; returns how many rows were new.
    pub async fn write(&self, receipt: Receipt, rows: Vec<InboxRow>) -> Result<usize, StoreError> {
        let (done, answer) = oneshot::channel();
        let closed = || StoreError::Unavailable("the webhook writer stopped".into());
        self.jobs
            .send(Job {
                receipt,
                rows,
                done,
            })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// Takes what has queued up (at least one job), writes it, answers; until the channel closes.
async fn run_writer(db: Db, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut group = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        match write_group(&db, &group).await {
            Ok(counts) => {
                for (job, n) in group.into_iter().zip(counts) {
                    let _ = job.done.send(Ok(n));
                }
            }
            // One bad job must not fail its neighbours: write each alone.
            Err(_) if group.len() > 1 => {
                for job in group {
                    let result = write_group(&db, std::slice::from_ref(&job)).await;
                    let _ = job
                        .done
                        .send(result.map(|c| c.first().copied().unwrap_or(0)));
                }
            }
            Err(err) => {
                if let Some(job) = group.pop() {
                    let _ = job.done.send(Err(err));
                }
            }
        }
    }
}

/// One transaction for a group; returns each job's count of new rows.
async fn write_group(db: &Db, group: &[Job]) -> Result<Vec<usize>, StoreError> {
    let rows: Vec<InboxRow> = group.iter().flat_map(|j| j.rows.iter().cloned()).collect();
    let mut tx = db.begin().await?;
    let new: std::collections::HashSet<(Uuid, String)> = inbox::insert_batch(&mut tx, &rows)
        .await?
        .into_iter()
        .collect();
    for job in group {
        webhook_receipts::insert(&mut tx, &job.receipt).await?;
    }
    tx.commit().await?;
    // An event id repeated within the group counts as new for the first POST that carried it.
    let mut seen = std::collections::HashSet::new();
    Ok(group
        .iter()
        .map(|j| {
            j.rows
                .iter()
                .filter(|r| {
                    let key = (r.tenant_id, r.external_event_id.clone());
                    new.contains(&key) && seen.insert(key)
                })
                .count()
        })
        .collect())
}

/// Why a webhook POST was refused; a label in metrics and in the per-minute counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No signature header.
    MissingSignature,
    /// A signature that does not verify.
    BadSignature,
    /// Signed, but over its source's rate.
    RateLimited,
    /// Signed, but not a webhook body we can read at all.
    Malformed,
    /// No verifier token is configured here.
    NotConfigured,
}

impl Refusal {
    /// The stored and exported name.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::MissingSignature => "missing_signature",
            Refusal::BadSignature => "bad_signature",
            Refusal::RateLimited => "rate_limited",
            Refusal::Malformed => "malformed",
            Refusal::NotConfigured => "not_configured",
        }
    }
}

type TallyKey = (&'static str, DateTime<Utc>, Refusal);

/// Counts refused POSTs in memory and writes them as one row per (provider, minute, outcome),
/// so junk costs no database write of its own however fast it comes. Counts not yet flushed
/// when the process stops are lost: they are monitoring, not data.
#[derive(Clone, Debug, Default)]
pub struct RefusalTally {
    counts: Arc<std::sync::Mutex<HashMap<TallyKey, i64>>>,
}

impl RefusalTally {
    /// Counts one refused POST now (and in the `webhook_requests_total` metric).
    pub fn count(&self, provider: &'static str, why: Refusal) {
        metrics::counter!("webhook_requests_total", "provider" => provider, "outcome" => why.as_str())
            .increment(1);
        let minute = crate::server::time::now()
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or_else(|_| crate::server::time::now());
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((provider, minute, why)).or_insert(0) += 1;
        }
    }

    /// Writes what has been counted since the last flush. On failure the counts are kept for the
    /// next one.
    pub async fn flush(&self, db: &Db) -> Result<(), StoreError> {
        let taken: HashMap<TallyKey, i64> = match self.counts.lock() {
            Ok(mut counts) => std::mem::take(&mut *counts),
            Err(_) => return Ok(()),
        };
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<webhook_receipts::RefusalCount> = taken
            .iter()
            .map(
                |((provider, minute, why), count)| webhook_receipts::RefusalCount {
                    provider: (*provider).to_string(),
                    minute: *minute,
                    outcome: why.as_str().to_string(),
                    count: *count,
                },
            )
            .collect();
        let written = webhook_receipts::add_refusals(db, &rows).await;
        if written.is_err() {
            if let Ok(mut counts) = self.counts.lock() {
                for (key, n) in taken {
                    *counts.entry(key).or_insert(0) += n;
                }
            }
        }
        written
    }
}
