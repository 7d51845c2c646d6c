//! Intuit fault bodies, in every shape the reference shows — JSON `Fault`, the lowercase
//! `fault` envelope of some 401/403 answers, and XML `IntuitResponse` (e.g. the 3001 throttle
//! body on 429) — parsed into one type and classified for the sync engine.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

/// One error of a fault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultError {
    /// Intuit's error code (`6240`, `5010`, …).
    pub code: String,
    /// Short message.
    pub message: String,
    /// Longer detail.
    pub detail: String,
    /// The field concerned, if named.
    pub element: Option<String>,
}

/// A parsed fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status it came with.
    pub status: u16,
    /// `ValidationFault`, `SystemFault`, `AUTHENTICATION`, `SERVICE`, …
    pub kind: String,
    /// The errors (at least one when parsed from a body).
    pub errors: Vec<FaultError>,
}

/// How the engine should react to a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultClass {
    /// Credentials refused or revoked: reconnect required, do not burn retries.
    Auth,
    /// Rate limited (3001 or 429): wait (Retry-After, else Intuit's 60 s) and retry.
    Throttled,
    /// Intuit-side or transient failure: retry with backoff.
    Retryable,
    /// 5010: the SyncToken is stale; re-read and retry once.
    Stale,
    /// 6240: the DisplayName exists; match the existing record instead of creating.
    DuplicateName,
    /// The request is wrong (validation, bad reference): retrying cannot help.
    Permanent,
}

impl Fault {
    /// Parses a fault body (JSON in either casing, or XML); `None` when the body holds no fault.
    pub fn parse(status: u16, body: &[u8]) -> Option<Fault> {
        let text = std::str::from_utf8(body).ok()?.trim_start();
        let (kind, errors) = if text.starts_with('<') {
            from_xml(text)?
        } else {
            from_json(text)?
        };
        Some(Fault {
            status,
            kind,
            errors,
        })
    }

    /// The first error's code.
    pub fn code(&self) -> &str {
        self.errors.first().map_or("", |e| e.code.as_str())
    }

    /// The reaction this fault calls for.
    pub fn class(&self) -> FaultClass {
        let code = self.code();
        let kind = self.kind.to_ascii_lowercase();
        match (self.status, code) {
            (_, "3200") | (401, _) => FaultClass::Auth,
            _ if kind == "authentication" => FaultClass::Auth,
            (_, "3100") => FaultClass::Auth, // AuthorizationFailed: the grant no longer covers the company
            (_, "3001") | (429, _) => FaultClass::Throttled,
            (_, "5010") => FaultClass::Stale,
            (_, "6240") => FaultClass::DuplicateName,
            (s, _) if s >= 500 => FaultClass::Retryable,
            _ if kind == "systemfault" || code == "10000" => FaultClass::Retryable,
            _ => FaultClass::Permanent,
        }
    }

    /// A one-line description for logs and sync logs (no secrets are ever in a fault).
    pub fn summary(&self) -> String {
        let e = self.errors.first().cloned().unwrap_or_default();
        format!(
            "QuickBooks {} {} ({}): {} — {}",
            self.status, e.code, self.kind, e.message, e.detail
        )
    }
}

fn from_json(text: &str) -> Option<(String, Vec<FaultError>)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let fault = v
        .get("Fault")
        .or_else(|| v.get("fault"))
        .filter(|f| f.is_object())?;
    let field = |o: &Value, a: &str, b: &str| {
        o.get(a)
            .or_else(|| o.get(b))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let errors = fault
        .get("Error")
        .or_else(|| fault.get("error"))
        .and_then(Value::as_array)?
        .iter()
        .map(|e| FaultError {
            code: field(e, "code", "Code"),
            message: field(e, "Message", "message"),
            detail: field(e, "Detail", "detail"),
            element: Some(field(e, "element", "Element")).filter(|s| !s.is_empty()),
        })
        .collect();
    Some((field(fault, "type", "Type"), errors))
}

fn from_xml(text: &str) -> Option<(String, Vec<FaultError>)> {
    let mut reader = Reader::from_str(text);
    let (mut kind, mut errors, mut field) = (None, Vec::<FaultError>::new(), None::<&'static str>);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .ok()
                        .flatten()
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .map(|v| v.to_string())
                };
                match e.local_name().as_ref() {
                    "Fault" => kind = attr("type"),
                    "Error" => errors.push(FaultError {
                        code: attr("code").unwrap_or_default(),
                        element: attr("element").filter(|s| !s.is_empty()),
                        ..FaultError::default()
                    }),
                    "Message" => field = Some("message"),
                    "Detail" => field = Some("detail"),
                    _ => {}
                }
            }
            Event::Text(t) => append(&mut errors, field, &t.xml10_content()),
            Event::GeneralRef(r) => append(&mut errors, field, predefined(&r)),
            Event::End(_) => field = None,
            Event::Eof => break,
            _ => {}
        }
    }
    Some((kind?, errors))
}

fn append(errors: &mut [FaultError], field: Option<&str>, text: &str) {
    if let (Some(last), Some(f)) = (errors.last_mut(), field) {
        match f {
            "message" => last.message.push_str(text),
            _ => last.detail.push_str(text),
        }
    }
}

/// The five predefined XML entities (the only ones Intuit's fault bodies use).
fn predefined(name: &str) -> &'static str {
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_faults_parse_alike() {
        let json = br#"{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","Detail":"in use","code":"6240"}],"type":"ValidationFault"}}"#;
        let xml = br#"<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"><Fault type="ValidationFault"><Error code="6240" element=""><Message>Duplicate Name Exists Error</Message><Detail>in use &amp; taken</Detail></Error></Fault></IntuitResponse>"#;
        let (a, b) = (
            Fault::parse(400, json).expect("json"),
            Fault::parse(400, xml).expect("xml"),
        );
        assert_eq!((a.code(), a.class()), ("6240", FaultClass::DuplicateName));
        assert_eq!((b.code(), b.class()), ("6240", FaultClass::DuplicateName));
        assert_eq!(b.errors[0].detail, "in use & taken");
        assert_eq!(b.errors[0].message, a.errors[0].message);
        assert!(Fault::parse(200, br#"{"Customer":{"Id":"1"}}"#).is_none());
        assert!(Fault::parse(500, b"<html>oops</html>").is_none());
    }

    #[test]
    fn status_alone_decides_when_the_code_does_not() {
        let body = br#"{"Fault":{"Error":[{"Message":"x","Detail":"y","code":"9999"}],"type":"ValidationFault"}}"#;
        assert_eq!(
            Fault::parse(503, body).expect("fault").class(),
            FaultClass::Retryable
        );
        assert_eq!(
            Fault::parse(429, body).expect("fault").class(),
            FaultClass::Throttled
        );
        assert_eq!(
            Fault::parse(401, body).expect("fault").class(),
            FaultClass::Auth
        );
        assert_eq!(
            Fault::parse(400, body).expect("fault").class(),
            FaultClass::Permanent
        );
    }
}
