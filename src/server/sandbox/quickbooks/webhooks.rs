//! The webhook sender. Every committed change queues a notification in the sandbox's file;
//! this loop POSTs the head of the queue to the app — legacy `eventNotifications` or a
//! CloudEvents array, several entities per POST, signed with `intuit-signature` — and on a
//! non-200 or no answer within 3 s retries the same events (same ids) on Intuit's schedule,
//! holding later events back meanwhile (reference § 7).

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::store::{self, WebhookEvent};
use super::{clock, Sandbox};
use crate::server::erp::quickbooks::webhook::{sign, SIGNATURE_HEADER};

/// Most events in one POST (Intuit: up to 100).
const MAX_EVENTS_PER_POST: i64 = 100;

/// Intuit's retry schedule after a failed delivery: 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h,
/// 6 h, then every 6 h.
const SCHEDULE_SECS: [i64; 8] = [10, 20, 30, 300, 1200, 7200, 14400, 21600];

/// The app's payload format (a developer-portal setting; formats are never mixed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookFormat {
    /// `{"eventNotifications":[…]}`.
    Legacy,
    /// A JSON array of CloudEvents 1.0.
    CloudEvents,
}

/// The wait before attempt `attempts + 1`, shortened by the time scale.
pub fn retry_delay(attempts: i64, time_scale: f64) -> TimeDelta {
    let idx = usize::try_from(attempts)
        .unwrap_or(0)
        .min(SCHEDULE_SECS.len() - 1);
    let ms = (SCHEDULE_SECS[idx] as f64 * 1000.0 / time_scale.max(0.001)).round() as i64;
    TimeDelta::milliseconds(ms.max(1))
}

fn verb(operation: &str) -> String {
    match operation {
        "Create" => "created".into(),
        "Update" => "updated".into(),
        "Delete" => "deleted".into(),
        "Merge" => "merged".into(),
        "Void" => "voided".into(),
        "Emailed" => "emailed".into(),
        other => other.to_lowercase(),
    }
}

fn legacy_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The POST body for `events` in `format`.
pub fn body(events: &[WebhookEvent], format: WebhookFormat) -> Value {
    match format {
        WebhookFormat::CloudEvents => Value::Array(
            events
                .iter()
                .map(|e| {
                    json!({
                        "specversion": "1.0", "id": e.id, "source": "intuit.erp-bridge-sandbox",
                        "type": format!("qbo.{}.{}.v1", e.entity.to_lowercase(), verb(&e.operation)),
                        "datacontenttype": "application/json", "time": legacy_time(e.occurred_at),
                        "intuitentityid": e.entity_id, "intuitaccountid": e.realm, "data": {}
                    })
                })
                .collect(),
        ),
        WebhookFormat::Legacy => {
            let mut realms: Vec<(String, Vec<Value>)> = Vec::new();
            for e in events {
                let entity = json!({ "name": e.entity, "id": e.entity_id, "operation": e.operation, "lastUpdated": legacy_time(e.occurred_at) });
                match realms.iter_mut().find(|(r, _)| *r == e.realm) {
                    Some((_, list)) => list.push(entity),
                    None => realms.push((e.realm.clone(), vec![entity])),
                }
            }
            json!({ "eventNotifications": realms.into_iter().map(|(realm, entities)| json!({
                "realmId": realm, "dataChangeEvent": { "entities": entities }
            })).collect::<Vec<_>>() })
        }
    }
}

/// Sends until `stop` turns true.
pub async fn run(s: Sandbox, mut stop: watch::Receiver<bool>) {
    loop {
        let sent = match deliver_once(&s).await {
            Ok(sent) => sent,
            Err(err) => {
                tracing::warn!(error = %err, "QuickBooks sandbox webhook delivery failed");
                false
            }
        };
        if *stop.borrow() {
            return;
        }
        if sent {
            continue;
        }
        tokio::select! {
            _ = s.inner.wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Delivers the head of the queue if it is due; true when something was delivered.
async fn deliver_once(s: &Sandbox) -> anyhow::Result<bool> {
    let target = s
        .inner
        .webhook
        .read()
        .map(|w| w.clone())
        .map_err(|_| anyhow::anyhow!("lock poisoned"))?;
    let Some(url) = target.url else {
        return Ok(false);
    };
    let head = {
        let mut c = s.inner.db.acquire().await?;
        store::webhook_head(&mut c, MAX_EVENTS_PER_POST).await?
    };
    let now = clock::now();
    let Some(first) = head.first() else {
        return Ok(false);
    };
    if first.next_attempt_at > now {
        return Ok(false); // the queue is blocked until the failed events are due again
    }
    // Events that failed before travel alone with their own schedule; fresh ones batch.
    let batch: Vec<WebhookEvent> = head
        .iter()
        .take_while(|e| e.attempts == first.attempts && e.next_attempt_at <= now)
        .cloned()
        .collect();
    let payload = body(&batch, target.format).to_string();
    let signature = sign(&s.inner.config.verifier_token, payload.as_bytes());
    let content_type = match target.format {
        WebhookFormat::CloudEvents => "application/cloudevents+json",
        WebhookFormat::Legacy => "application/json",
    };
    let post = || {
        s.inner
            .http
            .post(&url)
            .header(SIGNATURE_HEADER, &signature)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(payload.clone())
            .send()
    };
    let delivered = matches!(post().await, Ok(r) if r.status() == reqwest::StatusCode::OK);
    if delivered && s.faults().duplicate_webhooks {
        let _ = post().await;
    }
    let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
    let mut c = s.inner.db.acquire().await?;
    if delivered {
        store::webhooks_delivered(&mut c, &seqs).await?;
    } else {
        let next = clock::now() + retry_delay(first.attempts, s.limits().time_scale);
        store::webhooks_failed(&mut c, &seqs, next).await?;
        tracing::info!(
            events = seqs.len(),
            attempts = first.attempts + 1,
            "sandbox webhook not acknowledged; will retry"
        );
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, realm: &str, entity: &str, op: &str) -> WebhookEvent {
        WebhookEvent {
            seq,
            id: format!("ev-{seq}"),
            realm: realm.into(),
            entity: entity.into(),
            entity_id: seq.to_string(),
            operation: op.into(),
            occurred_at: DateTime::parse_from_rfc3339("2026-01-15T18:00:00Z")
                .map(|t| t.with_timezone(&Utc))
                .expect("time"),
            attempts: 0,
            next_attempt_at: Utc::now(),
        }
    }

    #[test]
    fn both_formats_parse_with_the_connectors_parser() {
        use crate::server::erp::quickbooks::webhook::parse;
        let events = vec![
            event(1, "r1", "Payment", "Create"),
            event(2, "r2", "Invoice", "Update"),
            event(3, "r1", "Customer", "Delete"),
        ];
        for format in [WebhookFormat::Legacy, WebhookFormat::CloudEvents] {
            let parsed = parse(body(&events, format).to_string().as_bytes())
                .expect("parses")
                .notifications;
            assert_eq!(parsed.len(), 3, "{format:?}");
            let payment = parsed
                .iter()
                .find(|n| n.entity == "Payment")
                .expect("payment");
            assert_eq!(
                (
                    payment.realm_id.as_str(),
                    payment.entity_id.as_str(),
                    payment.operation.as_str()
                ),
                ("r1", "1", "Create")
            );
            let customer = parsed
                .iter()
                .find(|n| n.entity == "Customer")
                .expect("customer");
            assert_eq!(customer.operation, "Delete", "{format:?}");
        }
    }

    #[test]
    fn retries_follow_intuits_schedule_scaled() {
        assert_eq!(retry_delay(0, 1.0), TimeDelta::seconds(10));
        assert_eq!(retry_delay(3, 1.0), TimeDelta::minutes(5));
        assert_eq!(retry_delay(40, 1.0), TimeDelta::hours(6));
        assert_eq!(retry_delay(0, 10.0), TimeDelta::seconds(1));
    }
}
