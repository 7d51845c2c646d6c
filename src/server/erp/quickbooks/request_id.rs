//! QuickBooks `requestid`: Intuit replays the stored response for a repeated requestid, so a
//! retried write must send the same one. It is derived from the outbox event's idempotency key
//! and a hash of its payload (DESIGN § 14) — a retry of the same row always gives the same id, a
//! re-send with the record's current state a new one — and kept within Intuit's 50 characters.

use sha2::{Digest, Sha256};

/// Intuit's limit on `requestid`.
pub const MAX_LEN: usize = 50;

/// The requestid for an idempotency key, the payload delivered under it and the operation
/// within that delivery (an invoice delivery may first create the customer, then the invoice:
/// each needs its own id).
pub fn request_id(idempotency_key: &str, payload: &serde_json::Value, operation: &str) -> String {
    // A row's payload is read from its stored text, so every retry of the row hashes the same.
    let digest =
        Sha256::digest(format!("{idempotency_key}\u{1f}{payload}\u{1f}{operation}").as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("eb-{hex}")
}

/// Intuit's limit on `requestid` for a batch call.
pub const MAX_BATCH_LEN: usize = 36;

/// The requestid of a batch call carrying the deliveries with these idempotency keys (in
/// order): the same set always gives the same id.
pub fn batch_request_id(idempotency_keys: &[&str]) -> String {
    let digest = Sha256::digest(idempotency_keys.join("\u{1f}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("b-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_fit_intuits_shorter_limit() {
        let a = batch_request_id(&["k1", "k2"]);
        assert_eq!(a, batch_request_id(&["k1", "k2"]));
        assert_ne!(a, batch_request_id(&["k1", "k3"]));
        assert!(a.len() <= MAX_BATCH_LEN, "{a}");
    }

    #[test]
    fn stable_distinct_and_short_enough() {
        let key = "quickbooks:OrderPaid:Order:01a1fcbd-b898-7507-a112-55ddff0f2cef:3";
        let payload = serde_json::json!({ "order": { "total": 1200, "currency": "USD" } });
        let a = request_id(key, &payload, "invoice.create");
        assert_eq!(
            a,
            request_id(key, &payload, "invoice.create"),
            "a retry sends the same id"
        );
        assert_ne!(
            a,
            request_id(key, &payload, "customer.create"),
            "each operation has its own"
        );
        assert_ne!(
            a,
            request_id(&key.replace(":3", ":4"), &payload, "invoice.create"),
            "a later version is a new write"
        );
        let changed = serde_json::json!({ "order": { "total": 1300, "currency": "USD" } });
        assert_ne!(
            a,
            request_id(key, &changed, "invoice.create"),
            "another payload is another write"
        );
        assert!(a.len() <= MAX_LEN && a.is_ascii());
    }
}
