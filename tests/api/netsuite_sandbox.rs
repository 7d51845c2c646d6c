//! The NetSuite sandbox over real HTTP, driven with our own NetSuite signing code (the M2M
//! assertion and the TBA signer, both checked elsewhere against Oracle's published examples):
//! who it lets in and how it refuses the rest, the record API's answers, and its limits. The
//! error documents are compared with Oracle's samples in `../shared/vectors/netsuite`.

use chrono::Utc;
use erp_bridge::server::erp::netsuite::m2m::{self, M2mCredentials};
use erp_bridge::server::erp::netsuite::tba::{self, Stamp, TbaCredentials};
use erp_bridge::server::sandbox::netsuite::{self as ns, NetSuiteSandboxConfig, TOKEN_PATH};
use erp_bridge::server::sandbox::SandboxHandle;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};

const ACCOUNT: &str = "1234567_SB1";
const ONE_WORLD: &str = "7654321_SB2";

struct Ns {
    handle: SandboxHandle,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn sandbox() -> Ns {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = NetSuiteSandboxConfig::new(dir.path().join("netsuite.db"));
    let handle = ns::start(cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox starts");
    Ns {
        handle,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

/// A NetSuite sandbox in `dir` whose account 1234567_SB1 has the TBA token `tid` (consumer
/// `ck` / `cs`) with `token_secret`: the other NetSuite tests' ERP.
pub async fn tba_sandbox(dir: &std::path::Path, token_secret: &str) -> SandboxHandle {
    let mut cfg = NetSuiteSandboxConfig::new(dir.join("netsuite.db"));
    cfg.tba_tokens.push(ns::TbaSeed {
        account: ACCOUNT.into(),
        consumer_key: "ck".into(),
        consumer_secret: SecretString::from("cs"),
        token_id: "tid".into(),
        token_secret: SecretString::from(token_secret),
    });
    ns::start(cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox")
}

/// An EC P-256 key and its self-signed certificate valid for `days`.
fn certificate(days: i64) -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["erp-bridge.test".into()]).expect("params");
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let cert = params.self_signed(&key).expect("cert");
    (key, cert.pem())
}

/// An Oracle sample, or None (with a note) where the vectors are absent outside CI.
fn vector(name: &str) -> Option<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/vectors/netsuite")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("vector is JSON")),
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have ../shared/vectors"
            );
            eprintln!("note: {} absent; comparison skipped", path.display());
            None
        }
    }
}

/// The shape of an error document: its keys, status and codes (details vary by record).
fn error_shape(v: &Value) -> Value {
    let details = v["o:errorDetails"].as_array().cloned().unwrap_or_default();
    json!({
        "keys": v.as_object().map(|o| { let mut k: Vec<_> = o.keys().cloned().collect(); k.sort(); k }),
        "status": v["status"],
        "title": v["title"],
        "codes": details.iter().map(|d| d["o:errorCode"].clone()).collect::<Vec<_>>(),
        "detail_keys": details.iter().map(|d| { let mut k: Vec<_> = d.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default(); k.sort(); k }).collect::<Vec<_>>(),
    })
}

impl Ns {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url)
    }

    fn record_url(&self, path: &str) -> String {
        self.url(&format!("/services/rest/record/v1/{path}"))
    }

    async fn control(&self, path: &str, body: Value) -> StatusCode {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control")
            .status()
    }

    async fn register(&self, account: &str, cert_id: &str, client_id: &str, pem: &str) {
        let status = self
            .control(
                &format!("/_sandbox/accounts/{account}/certificates"),
                json!({ "certificate_id": cert_id, "client_id": client_id, "certificate_pem": pem }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    async fn token_with(&self, assertion: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url(TOKEN_PATH))
            .form(&m2m::token_form(assertion))
            .send()
            .await
            .expect("token");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A bearer token for `account` through the M2M flow.
    async fn bearer(&self, account: &str) -> String {
        let (key, pem) = certificate(365);
        let cert_id = format!("cert-{account}");
        self.register(account, &cert_id, "client-1", &pem).await;
        let creds = M2mCredentials {
            client_id: "client-1".into(),
            certificate_id: cert_id,
            private_key_pem: SecretString::from(key.serialize_pem()),
        };
        let jwt = m2m::assertion(&creds, &self.url(TOKEN_PATH), Utc::now()).expect("assertion");
        let (status, body) = self.token_with(&jwt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("token").to_string()
    }

    async fn audit(&self) -> Vec<Value> {
        self.http
            .get(self.url("/_sandbox/audit"))
            .send()
            .await
            .expect("audit")
            .json()
            .await
            .expect("json")
    }

    async fn send(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, self.record_url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// Creates a record: the id from `Location`, after a 204 with no body.
    async fn create(&self, token: &str, kind: &str, body: Value) -> String {
        let res = self
            .send(token, reqwest::Method::POST, kind, Some(body))
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let location = res.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        assert!(res.text().await.expect("body").is_empty(), "no body");
        let prefix = self.record_url(&format!("{kind}/"));
        location
            .strip_prefix(&prefix)
            .expect("Location names the record")
            .to_string()
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let res = self.send(token, reqwest::Method::GET, path, None).await;
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn m2m_assertions_are_checked_as_netsuite_does() {
    let ns = sandbox().await;
    let (key, pem) = certificate(365);
    ns.register(ACCOUNT, "cert-1", "client-1", &pem).await;
    let creds = |client: &str, cert: &str| M2mCredentials {
        client_id: client.into(),
        certificate_id: cert.into(),
        private_key_pem: SecretString::from(key.serialize_pem()),
    };
    let here = ns.url(TOKEN_PATH);
    let jwt = m2m::assertion(&creds("client-1", "cert-1"), &here, Utc::now()).expect("jwt");
    let (status, body) = ns.token_with(&jwt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body.get("refresh_token").is_none(),
        "M2M has no refresh token"
    );
    if let Some(sample) = vector("oracle_oauth2_client_credentials_token_response.json") {
        let keys = |v: &Value| {
            let mut k: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&body), keys(&sample));
    }
    // Each refusal is a 400 invalid_grant; the audit trail says why.
    let signer =
        jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).expect("key");
    let now = Utc::now().timestamp();
    let long = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("cert-1".into());
        let claims = json!({ "iss": "client-1", "scope": ["rest_webservices"], "aud": here, "iat": now, "exp": now + 3_700 });
        jsonwebtoken::encode(&h, &claims, &signer).expect("jwt")
    };
    let hs256 = {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some("cert-1".into());
        let claims = json!({ "iss": "client-1", "scope": "rest_webservices", "aud": here, "iat": now, "exp": now + 300 });
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"guess"),
        )
        .expect("jwt")
    };
    let refused = [
        (
            m2m::assertion(&creds("client-2", "cert-1"), &here, Utc::now()).expect("jwt"),
            "InvalidIssuer",
        ),
        (
            m2m::assertion(&creds("client-1", "cert-9"), &here, Utc::now()).expect("jwt"),
            "unknown certificate id",
        ),
        (
            m2m::assertion(
                &creds("client-1", "cert-1"),
                "https://elsewhere.example/token",
                Utc::now(),
            )
            .expect("jwt"),
            "InvalidAudience",
        ),
        (
            m2m::assertion(
                &creds("client-1", "cert-1"),
                &here,
                Utc::now() - chrono::TimeDelta::hours(2),
            )
            .expect("jwt"),
            "ExpiredSignature",
        ),
        (long, "more than 60 minutes"),
        (hs256, "not accepted"),
    ];
    for (jwt, why) in refused {
        let (status, body) = ns.token_with(&jwt).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{why}"
        );
        let audit = ns.audit().await;
        let latest = audit[0]["detail"].as_str().expect("detail");
        assert!(
            latest.contains(why),
            "audit says {latest:?}, expected {why:?}"
        );
        assert_eq!(audit[0]["status"], "Failure");
    }
    // An expired certificate opens nothing.
    let (old_key, old_pem) = certificate(-1);
    ns.register(ACCOUNT, "cert-old", "client-1", &old_pem).await;
    let old = M2mCredentials {
        client_id: "client-1".into(),
        certificate_id: "cert-old".into(),
        private_key_pem: SecretString::from(old_key.serialize_pem()),
    };
    let (status, _) = ns
        .token_with(&m2m::assertion(&old, &here, Utc::now()).expect("jwt"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ns.audit().await[0]["detail"]
        .as_str()
        .unwrap_or("")
        .contains("expired"));
}

#[tokio::test]
async fn api_calls_without_good_credentials_get_netsuite_s_generic_401() {
    let ns = sandbox().await;
    let (status, body) = ns.get("not-a-token", "customer/1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["o:errorDetails"][0]["o:errorCode"], "INVALID_LOGIN");
    if let Some(sample) = vector("oracle_error_401_invalid_login.json") {
        assert_eq!(error_shape(&body), error_shape(&sample));
        assert_eq!(
            body["o:errorDetails"][0]["detail"],
            sample["o:errorDetails"][0]["detail"]
        );
    }
    assert_eq!(ns.audit().await[0]["detail"], "unknown access token");
}

#[tokio::test]
async fn tba_requests_are_verified_and_each_nonce_is_used_once() {
    let ns = sandbox().await;
    let status = ns
        .control(
            &format!("/_sandbox/accounts/{ACCOUNT}/tba"),
            json!({ "consumer_key": "ck", "consumer_secret": "cs", "token_id": "tid", "token_secret": "ts" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let creds = TbaCredentials {
        consumer_key: "ck".into(),
        consumer_secret: SecretString::from("cs"),
        token_id: "tid".into(),
        token_secret: SecretString::from("ts"),
    };
    // Query parameters are signed, and only in the base string.
    let url = url::Url::parse(&ns.record_url("currency/1?fields=symbol")).expect("url");
    let signed = |realm: &str, stamp: &Stamp| tba::authorization("GET", &url, realm, &creds, stamp);
    let get = |auth: String| {
        ns.http
            .get(url.clone())
            .header("authorization", auth)
            .send()
    };
    let stamp = Stamp::now();
    let res = get(signed(ACCOUNT, &stamp)).await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["symbol"], "USD");
    assert!(body.get("name").is_none(), "fields= picks body fields");
    // The same nonce and timestamp again: refused.
    let res = get(signed(ACCOUNT, &stamp)).await.expect("replay");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ns.audit().await[0]["detail"], "nonce_used");
    // A lowercase realm (a classic): refused.
    let res = get(signed("1234567_sb1", &Stamp::now()))
        .await
        .expect("realm");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(ns.audit().await[0]["detail"]
        .as_str()
        .unwrap_or("")
        .contains("realm"));
    // A wrong secret: the signature does not match.
    let wrong = TbaCredentials {
        token_secret: SecretString::from("nope"),
        ..creds.clone()
    };
    let res = get(tba::authorization(
        "GET",
        &url,
        ACCOUNT,
        &wrong,
        &Stamp::now(),
    ))
    .await
    .expect("wrong");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ns.audit().await[0]["detail"], "InvalidSignature");
}

#[tokio::test]
async fn customers_are_created_read_changed_and_upserted_as_netsuite_answers() {
    let ns = sandbox().await;
    let token = ns.bearer(ACCOUNT).await;
    // Oracle's own create example (lowercase field names), on a non-OneWorld account.
    let id = ns
        .create(&token, "customer", json!({ "entityid": "New Customer", "companyname": "My Company", "email": "a@b.example" }))
        .await;
    let (status, c) = ns.get(&token, &format!("customer/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["id"], json!(id), "ids are strings");
    assert_eq!(c["entityId"], "New Customer");
    assert_eq!(c["companyName"], "My Company");
    assert_eq!(c["currency"]["refName"], "USD");
    assert!(c["currency"]["links"][0]["href"]
        .as_str()
        .unwrap_or("")
        .ends_with("/currency/1"));
    assert!(c["links"][0]["href"]
        .as_str()
        .unwrap_or("")
        .ends_with(&format!("/customer/{id}")));
    let modified = c["lastModifiedDate"].as_str().expect("lastModifiedDate");
    assert!(modified.ends_with(":00Z"), "to the minute: {modified}");
    // PATCH changes what it names; null clears a field.
    let res = ns
        .send(
            &token,
            reqwest::Method::PATCH,
            &format!("customer/{id}"),
            Some(json!({ "companyName": "Renamed", "email": null })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap_or("")
        .ends_with(&format!("/customer/{id}")));
    let (_, c) = ns.get(&token, &format!("customer/{id}")).await;
    assert_eq!(
        (c["companyName"].as_str(), c.get("email")),
        (Some("Renamed"), None)
    );
    assert_eq!(c["entityId"], "New Customer", "untouched");
    // The upsert creates once, then updates the same record.
    let put = |body: Value| {
        ns.send(
            &token,
            reqwest::Method::PUT,
            "customer/eid:CID-002",
            Some(body),
        )
    };
    assert_eq!(
        put(json!({ "companyName": "Upserted" })).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(json!({ "companyName": "Upserted again" }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (status, c) = ns.get(&token, "customer/eid:CID-002").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (c["companyName"].as_str(), c["externalId"].as_str()),
        (Some("Upserted again"), Some("CID-002"))
    );
    // Unknown ids and bad values answer as Oracle's samples do.
    let (status, body) = ns.get(&token, "customer/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    if let Some(sample) = vector("oracle_error_404_nonexistent_id.json") {
        assert_eq!(error_shape(&body), error_shape(&sample));
        assert_eq!(body, sample, "the whole document, word for word");
    }
    let res = ns
        .send(
            &token,
            reqwest::Method::POST,
            "customer",
            Some(json!({ "email": "x@y.example" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["o:errorDetails"][0]["o:errorCode"], "USER_ERROR");
    let res = ns
        .send(
            &token,
            reqwest::Method::POST,
            "customer",
            Some(json!("not an object")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    if let Some(sample) = vector("oracle_error_400_invalid_request.json") {
        assert_eq!(body, sample);
    }
    // A OneWorld account insists on a subsidiary.
    let other = ns.bearer(ONE_WORLD).await;
    let res = ns
        .send(
            &other,
            reqwest::Method::POST,
            "customer",
            Some(json!({ "companyName": "No Sub" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    ns.create(
        &other,
        "customer",
        json!({ "companyName": "UK Ltd", "subsidiary": { "id": "2" } }),
    )
    .await;
    // And an account sees only its own records.
    let (status, _) = ns.get(&other, "customer/eid:CID-002").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sales_order_lines_merge_by_key_unless_replaced() {
    let ns = sandbox().await;
    let token = ns.bearer(ACCOUNT).await;
    let customer = ns
        .create(&token, "customer", json!({ "companyName": "Lines Ltd" }))
        .await;
    let order = json!({
        "entity": { "id": customer },
        "shippingCost": 5.5,
        "item": { "items": [ { "item": { "id": "10" }, "quantity": 2 }, { "item": { "id": "11" }, "quantity": 1, "rate": 40 } ] }
    });
    let put = |q: &'static str, body: Value| {
        let (ns, token) = (&ns, &token);
        async move {
            let path = format!("salesOrder/eid:ORD-1{q}");
            ns.send(token, reqwest::Method::PUT, &path, Some(body))
                .await
        }
    };
    assert_eq!(
        put("", order.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, so) = ns
        .get(&token, "salesOrder/eid:ORD-1?expandSubResources=true")
        .await;
    let lines = so["item"]["items"].as_array().expect("lines").clone();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["rate"], 12.5, "the item's price");
    assert_eq!(so["total"], 2.0 * 12.5 + 40.0 + 5.5);
    assert_eq!(so["currency"]["refName"], "USD", "from the customer");
    assert_eq!(so["status"]["refName"], "Pending Fulfillment");
    let (_, plain) = ns.get(&token, "salesOrder/eid:ORD-1").await;
    assert!(
        plain["item"].get("items").is_none(),
        "a sublist is a link unless expanded"
    );
    // Replayed without ?replace=item, the lines are added again — NetSuite's merge rule.
    assert_eq!(
        put("", order.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, so) = ns
        .get(&token, "salesOrder/eid:ORD-1?expandSubResources=true")
        .await;
    assert_eq!(so["item"]["items"].as_array().map(Vec::len), Some(4));
    // With ?replace=item, the order holds exactly what was sent.
    assert_eq!(
        put("?replace=item", order).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, so) = ns
        .get(&token, "salesOrder/eid:ORD-1?expandSubResources=true")
        .await;
    assert_eq!(so["item"]["items"].as_array().map(Vec::len), Some(2));
    // A line naming an item that does not exist: INVALID_CONTENT at its path.
    let bad = json!({ "entity": { "id": customer }, "item": { "items": [ { "item": { "id": 9999 }, "amount": 1 } ] } });
    let res = ns
        .send(&token, reqwest::Method::POST, "salesOrder", Some(bad))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    if let Some(sample) = vector("oracle_error_400_invalid_content_salesorder.json") {
        assert_eq!(body, sample, "Oracle's own example, word for word");
    }
    assert_eq!(
        body["o:errorDetails"][0]["o:errorPath"],
        "item.items[0].item"
    );
}

#[tokio::test]
async fn the_concurrency_limit_refuses_the_excess_with_netsuite_s_429() {
    let ns = sandbox().await;
    let token = ns.bearer(ACCOUNT).await;
    assert_eq!(
        ns.control("/_sandbox/limits", json!({ "concurrency": 2 }))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        ns.control("/_sandbox/faults", json!({ "latency_ms": 400 }))
            .await,
        StatusCode::NO_CONTENT
    );
    let calls = (0..5).map(|_| ns.get(&token, "currency/1"));
    let answers = futures::future::join_all(calls).await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(
        (ok, refused.len()),
        (2, 3),
        "two slots, the rest refused at once"
    );
    let body = &refused[0].1;
    assert_eq!(
        body["title"], "Bad Request",
        "NetSuite's 429 says Bad Request"
    );
    assert_eq!(body["o:errorCode"], "USER_ERROR");
    assert_eq!(
        body["o:errorDetails"][0]["o:errorCode"],
        "CONCURRENCY_LIMIT_EXCEEDED"
    );
}

impl Ns {
    /// A SuiteQL page: (status, body).
    async fn suiteql(&self, token: &str, query: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url(&format!("/services/rest/query/v1/suiteql{query}")))
            .bearer_auth(token)
            .header("prefer", "transient")
            .json(&body)
            .send()
            .await
            .expect("suiteql");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn suiteql_pages_a_watermark_query_as_netsuite_answers_it() {
    let ns = sandbox().await;
    let token = ns.bearer(ACCOUNT).await;
    let before = Utc::now() - chrono::TimeDelta::seconds(5);
    for (name, email) in [
        ("Alpha", Some("a@x.example")),
        ("Beta", None),
        ("Gamma", None),
    ] {
        let mut body = json!({ "companyName": name });
        if let Some(e) = email {
            body["email"] = json!(e);
        }
        ns.create(&token, "customer", body).await;
    }
    let q = json!({
        "q": "SELECT id, companyname, email, lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified \
              FROM customer WHERE lastmodifieddate >= TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id",
        "params": [before.format("%Y-%m-%d %H:%M:%S").to_string()],
    });
    let (status, page) = ns.suiteql(&token, "?limit=2&offset=0", q.clone()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        (
            page["count"].as_u64(),
            page["hasMore"].as_bool(),
            page["totalResults"].as_u64()
        ),
        (Some(2), Some(true), Some(3))
    );
    let rels: Vec<_> = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["rel"].as_str().unwrap_or(""))
        .collect();
    assert!(
        rels.contains(&"next") && rels.contains(&"self") && !rels.contains(&"prev"),
        "{rels:?}"
    );
    let first = &page["items"][0];
    assert_eq!(first["companyname"], "Alpha");
    assert!(first["id"].is_string(), "values are strings: {first}");
    assert_eq!(first["links"], json!([]));
    let today = Utc::now().date_naive();
    assert_eq!(
        first["lastmodifieddate"],
        json!(format!(
            "{}/{}/{}",
            chrono::Datelike::month(&today),
            chrono::Datelike::day(&today),
            chrono::Datelike::year(&today)
        )),
        "a plain date column has no time of day"
    );
    assert_eq!(
        first["modified"].as_str().map(str::len),
        Some(19),
        "TO_CHAR keeps the time"
    );
    assert!(
        page["items"][1].get("email").is_none(),
        "NULL columns are left out"
    );
    let (_, page2) = ns.suiteql(&token, "?limit=2&offset=2", q.clone()).await;
    assert_eq!(
        (page2["count"].as_u64(), page2["hasMore"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(page2["items"][0]["companyname"], "Gamma");
    // Paging rules and unknown tables are refused with INVALID_PARAMETER naming the parameter.
    for (query, param) in [("?limit=1001", "limit"), ("?limit=2&offset=3", "offset")] {
        let (status, body) = ns.suiteql(&token, query, q.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            body["o:errorDetails"][0]["o:errorCode"],
            "INVALID_PARAMETER"
        );
        assert_eq!(body["o:errorDetails"][0]["o:errorQueryParam"], param);
    }
    let (status, body) = ns
        .suiteql(&token, "", json!({ "q": "SELECT id FROM spaceship" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["o:errorDetails"][0]["detail"]
        .as_str()
        .unwrap_or("")
        .contains("Invalid search query"));
    // Without Prefer: transient, refused.
    let res = ns
        .http
        .post(ns.url("/services/rest/query/v1/suiteql"))
        .bearer_auth(&token)
        .json(&json!({ "q": "SELECT id FROM customer" }))
        .send()
        .await
        .expect("no prefer");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn suiteql_finds_items_by_sku_and_remembers_deleted_records() {
    let ns = sandbox().await;
    let token = ns.bearer(ACCOUNT).await;
    let (status, page) = ns
        .suiteql(
            &token,
            "",
            json!({ "q": "SELECT id, itemid FROM item WHERE itemid = ?", "params": ["GAD-200"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["itemid"], "GAD-200");
    assert_eq!(page["items"][0]["id"], "11");
    let id = ns
        .create(
            &token,
            "customer",
            json!({ "companyName": "Gone Ltd", "externalId": "GONE-1" }),
        )
        .await;
    let res = ns
        .send(
            &token,
            reqwest::Method::DELETE,
            &format!("customer/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, page) = ns
        .suiteql(&token, "", json!({ "q": "SELECT recordid, type, externalid, TO_CHAR(deleteddate, 'YYYY-MM-DD HH24:MI:SS') AS at FROM deletedrecord WHERE type = 'customer'" }))
        .await;
    assert_eq!(page["count"], 1);
    assert_eq!(
        (
            page["items"][0]["recordid"].as_str(),
            page["items"][0]["externalid"].as_str()
        ),
        (Some(id.as_str()), Some("GONE-1"))
    );
    let (status, _) = ns.get(&token, &format!("customer/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
