//! Intuit webhooks: signature verification over the raw body, and parsing of both payload
//! formats (legacy `eventNotifications` and the CloudEvents array) into one notification type.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "intuit-signature";

/// Whether `signature` (base64) is HMAC-SHA256 of the raw `body` under the verifier token.
/// Compared in constant time; the body must be the exact bytes received.
pub fn verify_signature(verifier_token: &SecretString, body: &[u8], signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(verifier_token.expose_secret().as_bytes())
    else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The signature Intuit would send for `body` (used by the emulator and tests).
pub fn sign(verifier_token: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(verifier_token.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// One entity change, whichever format it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The company (realm id) it belongs to: routes it to a tenant.
    pub realm_id: String,
    /// Entity name as Intuit spells it (`Customer`, `Invoice`, `Payment`, …).
    pub entity: String,
    /// The entity's id in QuickBooks.
    pub entity_id: String,
    /// `Create`, `Update`, `Delete`, `Merge`, `Void`, `Emailed` (CloudEvents verbs are mapped).
    pub operation: String,
    /// When it happened, as sent.
    pub occurred_at: String,
    /// Dedupe key: the CloudEvents `id`; for legacy events, a hash of realm, entity, id,
    /// operation and lastUpdated (legacy events carry no id).
    pub event_id: String,
}

/// Why a (correctly signed) body could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("unrecognised webhook payload: {0}")]
pub struct ParseError(String);

/// An event of a readable body that was not understood: skipped, and recorded with the receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// What was wrong with it.
    pub reason: String,
}

/// A signed body, read event by event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The events understood.
    pub notifications: Vec<Notification>,
    /// The events skipped (one bad event does not hold back the others).
    pub skipped: Vec<Skipped>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Legacy {
    event_notifications: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyNotification {
    realm_id: String,
    data_change_event: LegacyChanges,
}

#[derive(Deserialize)]
struct LegacyChanges {
    entities: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyEntity {
    name: String,
    id: String,
    operation: String,
    #[serde(default)]
    last_updated: String,
}

#[derive(Deserialize)]
struct CloudEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    time: String,
    intuitentityid: String,
    intuitaccountid: String,
}

/// Parses either payload format. Only a body that is not JSON, or whose envelope is neither
/// format, is an error; each event inside is read on its own and skipped if it cannot be.
pub fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ParseError(e.to_string()))?;
    let mut parsed = Parsed::default();
    let mut skip = |reason: String| parsed.skipped.push(Skipped { reason });
    let mut found = Vec::new();
    if let serde_json::Value::Array(events) = value {
        for event in events {
            match serde_json::from_value::<CloudEvent>(event)
                .map_err(|e| ParseError(format!("CloudEvent: {e}")))
                .and_then(from_cloud_event)
            {
                Ok(n) => found.push(n),
                Err(e) => skip(e.0),
            }
        }
    } else {
        let legacy: Legacy =
            serde_json::from_value(value).map_err(|e| ParseError(e.to_string()))?;
        for notification in legacy.event_notifications {
            let n = match serde_json::from_value::<LegacyNotification>(notification) {
                Ok(n) => n,
                Err(e) => {
                    skip(format!("eventNotification: {e}"));
                    continue;
                }
            };
            for entity in n.data_change_event.entities {
                match serde_json::from_value::<LegacyEntity>(entity) {
                    Ok(e) => found.push(Notification {
                        event_id: legacy_event_id(&n.realm_id, &e),
                        realm_id: n.realm_id.clone(),
                        entity: e.name,
                        entity_id: e.id,
                        operation: e.operation,
                        occurred_at: e.last_updated,
                    }),
                    Err(e) => skip(format!("dataChangeEvent entity: {e}")),
                }
            }
        }
    }
    parsed.notifications = found;
    Ok(parsed)
}

fn legacy_event_id(realm: &str, e: &LegacyEntity) -> String {
    let material = format!(
        "{realm}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        e.name, e.id, e.operation, e.last_updated
    );
    let digest = Sha256::digest(material.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("legacy:{hex}")
}

/// `qbo.<entity>.<verb>.v1` → (Entity, Operation).
fn from_cloud_event(e: CloudEvent) -> Result<Notification, ParseError> {
    let parts: Vec<&str> = e.kind.split('.').collect();
    let (entity, verb) = match parts.as_slice() {
        ["qbo", entity, verb, ..] => (*entity, *verb),
        _ => {
            return Err(ParseError(format!(
                "unexpected CloudEvents type {:?}",
                e.kind
            )))
        }
    };
    let operation = match verb {
        "created" => "Create",
        "updated" => "Update",
        "deleted" => "Delete",
        "merged" => "Merge",
        "voided" => "Void",
        "emailed" => "Emailed",
        other => other,
    };
    Ok(Notification {
        realm_id: e.intuitaccountid,
        entity: capitalize(entity),
        entity_id: e.intuitentityid,
        operation: operation.to_string(),
        occurred_at: e.time,
        event_id: e.id,
    })
}

/// `customer` → `Customer`, `journalentry` stays `Journalentry` (names are only compared
/// case-insensitively downstream).
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_over_raw_bytes_only() {
        let token = SecretString::from("verify_me");
        let sig = sign(&token, br#"{"stuff":"5"}"#);
        assert!(verify_signature(&token, br#"{"stuff":"5"}"#, &sig));
        assert!(
            !verify_signature(&token, br#"{"stuff": "5"}"#, &sig),
            "re-serialised body"
        );
        assert!(!verify_signature(&token, b"", &sig));
        assert!(!verify_signature(
            &SecretString::from("other"),
            br#"{"stuff":"5"}"#,
            &sig
        ));
        assert!(!verify_signature(
            &token,
            br#"{"stuff":"5"}"#,
            "not base64!"
        ));
    }

    #[test]
    fn legacy_ids_are_deterministic_and_distinguish_changes() {
        let body = br#"{"eventNotifications":[{"realmId":"1","dataChangeEvent":{"entities":[
            {"name":"Payment","id":"7","operation":"Create","lastUpdated":"2025-01-01T00:00:00Z"},
            {"name":"Payment","id":"7","operation":"Update","lastUpdated":"2025-01-01T00:00:00Z"}]}}]}"#;
        let a = parse(body).expect("parses").notifications;
        let b = parse(body).expect("parses").notifications;
        assert_eq!(a, b);
        assert_ne!(a[0].event_id, a[1].event_id);
        assert_eq!(
            (
                a[0].realm_id.as_str(),
                a[0].entity.as_str(),
                a[0].operation.as_str()
            ),
            ("1", "Payment", "Create")
        );
    }

    #[test]
    fn cloud_events_map_type_to_entity_and_operation() {
        let body = br#"[{"specversion":"1.0","id":"e-1","source":"intuit.x","type":"qbo.payment.created.v1",
            "time":"2025-09-10T21:31:25Z","intuitentityid":"55","intuitaccountid":"310687","data":{}}]"#;
        let n = parse(body).expect("parses").notifications;
        assert_eq!(n[0].event_id, "e-1");
        assert_eq!(
            (
                n[0].entity.as_str(),
                n[0].operation.as_str(),
                n[0].entity_id.as_str()
            ),
            ("Payment", "Create", "55")
        );
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }

    #[test]
    fn an_unrecognised_event_is_skipped_and_the_rest_kept() {
        let body = br#"[{"id":"x","type":"other.thing","intuitentityid":"1","intuitaccountid":"2"},
            {"id":"e-2","type":"qbo.customer.updated.v1","intuitentityid":"9","intuitaccountid":"2"},
            {"id":"e-3"}]"#;
        let p = parse(body).expect("the envelope is readable");
        assert_eq!(p.notifications.len(), 1);
        assert_eq!(p.notifications[0].event_id, "e-2");
        assert_eq!(p.skipped.len(), 2);
        assert!(
            p.skipped[0].reason.contains("other.thing"),
            "{:?}",
            p.skipped
        );
        let legacy = br#"{"eventNotifications":[{"realmId":"1","dataChangeEvent":{"entities":[
            {"name":"Payment","id":"7","operation":"Create"},{"surprise":true}]}},{"nope":1}]}"#;
        let p = parse(legacy).expect("readable");
        assert_eq!((p.notifications.len(), p.skipped.len()), (1, 2));
    }
}
