//! Removes secrets from payloads before they are stored in sync logs.

use serde_json::Value;

/// Keys whose values are never stored (compared case-insensitively, ignoring `_` and `-`).
const SECRET_KEYS: &[&str] = &[
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "token",
    "password",
    "secret",
    "clientsecret",
    "authorization",
    "apikey",
    "consumersecret",
    "tokensecret",
    "signature",
    "code",
    "cookie",
    "setcookie",
    "clientassertion",
    "oauthtoken",
    "oauthsignature",
    "privatekey",
    "xapikey",
    "assertion",
    "credentials",
];

/// `text` with bearer/basic credentials replaced, capped at 2,000 characters: for error
/// messages, which come from ERPs and are stored and shown.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(2000));
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        let lower = word.to_ascii_lowercase();
        if (lower.ends_with("bearer") || lower.ends_with("basic")) && words.peek().is_some() {
            words.next();
            out.push_str(" [redacted]");
        }
    }
    out.chars().take(2000).collect()
}

/// A copy of `value` with every secret-looking field replaced by `"[redacted]"`.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key: String = k
                        .chars()
                        .filter(|c| *c != '_' && *c != '-')
                        .collect::<String>()
                        .to_lowercase();
                    if SECRET_KEYS.contains(&key.as_str()) {
                        (k.clone(), Value::String("[redacted]".into()))
                    } else {
                        (k.clone(), redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The stored text of a payload: redacted JSON.
pub fn to_stored(value: &Value) -> String {
    redact(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_in_messages_are_redacted() {
        let msg = redact_text("401 from https://x: Authorization: Bearer eyJabc.def rejected");
        assert_eq!(
            msg,
            "401 from https://x: Authorization: Bearer [redacted] rejected"
        );
        assert_eq!(redact_text(&"x".repeat(5000)).len(), 2000);
    }

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = json!({
            "Customer": { "DisplayName": "Acme", "access_token": "abc" },
            "headers": [{ "Authorization": "Bearer xyz" }],
            "Refresh-Token": "r1",
        });
        let out = to_stored(&v);
        assert!(out.contains("Acme"));
        for secret in ["abc", "xyz", "r1"] {
            assert!(!out.contains(secret), "{out}");
        }
    }
}
