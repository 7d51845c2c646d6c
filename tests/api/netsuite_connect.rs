//! Connecting NetSuite over the JSON API, against the NetSuite sandbox over real HTTP: the
//! credentials are tried before anything is stored, a OneWorld account asks for its
//! subsidiary, nothing secret is answered back or stored in clear, only a person who is an
//! Admin connects, and a re-check records what NetSuite now says.

use crate::both_backends;
use crate::helpers::{demo_email, spawn_app_with, Backend, TestApp};
use erp_bridge::domain::Role;
use erp_bridge::server::sandbox::SandboxHandle;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    a_tba_account_connects_after_its_credentials_are_tried,
    a_oneworld_account_asks_for_its_subsidiary_over_m2m,
    only_an_admin_in_person_connects,
    a_re_check_records_what_netsuite_now_says
);

const ACCOUNT: &str = "1234567_SB1";
const ONE_WORLD: &str = "7654321_SB2";
const SECRET: &str = "tba-token-secret-never-shown";

struct Setup {
    app: TestApp,
    sandbox: SandboxHandle,
    _dir: tempfile::TempDir,
}

async fn setup(backend: Backend) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = crate::netsuite_sandbox::tba_sandbox(dir.path(), SECRET).await;
    let url = sandbox.base_url.clone();
    let app = spawn_app_with(backend, move |s| s.netsuite_base_url = Some(url)).await;
    Setup {
        app,
        sandbox,
        _dir: dir,
    }
}

fn tba(secret: &str) -> Value {
    json!({ "method": "tba", "consumer_key": "ck", "consumer_secret": "cs", "token_id": "tid", "token_secret": secret })
}

async fn connect(s: &Setup, c: &reqwest::Client, body: Value) -> (u16, Value) {
    s.app
        .send_json(c, Method::POST, "/api/integrations/netsuite/connect", body)
        .await
}

async fn netsuite_status(s: &Setup, c: &reqwest::Client) -> Option<String> {
    let (_, list) = s.app.get_json(c, "/api/integrations/connections").await;
    list.as_array()
        .and_then(|l| l.iter().find(|c| c["provider"] == "NetSuite"))
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

/// Every sealed credentials column's raw text.
async fn stored_credentials(app: &TestApp) -> String {
    let rows: Vec<Option<String>> = erp_bridge::on_conn!(app.state.db.read(), p =>
        sqlx::query_scalar("SELECT credentials_encrypted FROM integration_connections").fetch_all(p).await)
    .expect("rows");
    rows.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

async fn a_tba_account_connects_after_its_credentials_are_tried(backend: Backend) {
    let s = setup(backend).await;
    let admin = s.app.signed_in(demo_email(Role::Admin)).await;
    // Wrong secret: NetSuite's generic refusal, explained; nothing stored.
    let (status, body) = connect(
        &s,
        &admin,
        json!({ "account_id": ACCOUNT, "credentials": tba("wrong") }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Login Audit Trail") && message.contains("nothing was stored"),
        "{message}"
    );
    assert_ne!(
        netsuite_status(&s, &admin).await.as_deref(),
        Some("Connected")
    );
    // A malformed account id is refused before any call.
    let (status, _) = connect(
        &s,
        &admin,
        json!({ "account_id": "not an account", "credentials": tba(SECRET) }),
    )
    .await;
    assert_eq!(status, 422);
    // The right one connects, and the answer holds no secret.
    let (status, body) = connect(
        &s,
        &admin,
        json!({ "account_id": "1234567_sb1", "credentials": tba(SECRET) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account_id"], ACCOUNT, "NetSuite's own form of the id");
    assert_eq!(body["method"], "tba");
    assert_eq!(body["home_currency"], "USD");
    assert_eq!(body["subsidiaries"], json!([]));
    assert!(!body.to_string().contains(SECRET));
    assert_eq!(
        netsuite_status(&s, &admin).await.as_deref(),
        Some("Connected")
    );
    let sealed = stored_credentials(&s.app).await;
    assert!(
        !sealed.is_empty() && !sealed.contains(SECRET),
        "sealed at rest"
    );
}

async fn a_oneworld_account_asks_for_its_subsidiary_over_m2m(backend: Backend) {
    let s = setup(backend).await;
    let admin = s.app.signed_in(demo_email(Role::Admin)).await;
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["erp-bridge.test".into()]).expect("params");
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(200);
    let cert = params.self_signed(&key).expect("cert").pem();
    let status = reqwest::Client::new()
        .post(format!("{}/_sandbox/accounts/{ONE_WORLD}/certificates", s.sandbox.base_url))
        .json(&json!({ "certificate_id": "cert-ow", "client_id": "client-ow", "certificate_pem": cert }))
        .send()
        .await
        .expect("register")
        .status();
    assert_eq!(status, 204);
    let m2m = json!({ "method": "m2m", "client_id": "client-ow", "certificate_id": "cert-ow",
        "private_key_pem": key.serialize_pem(), "certificate_pem": cert });
    let (status, body) = connect(
        &s,
        &admin,
        json!({ "account_id": ONE_WORLD, "credentials": m2m }),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("1 Parent Company") && message.contains("2 UK Subsidiary"),
        "{message}"
    );
    let (status, body) = connect(
        &s,
        &admin,
        json!({ "account_id": ONE_WORLD, "credentials": m2m, "subsidiary_id": "2" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["subsidiary_id"].as_str(),
            body["home_currency"].as_str()
        ),
        (Some("2"), Some("GBP"))
    );
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["certificate_expires_at"].clone()).expect("expiry shown");
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((199..=200).contains(&days), "{days}");
    assert!(!body.to_string().contains("PRIVATE KEY"));
    // The card shows the expiry (read from the sealed certificate) and the days left.
    let (status, cards) = s
        .app
        .get_json(&admin, "/api/integrations/connections")
        .await;
    assert_eq!(status, 200, "{cards}");
    let card = cards
        .as_array()
        .and_then(|c| c.iter().find(|c| c["provider"] == "NetSuite"))
        .expect("NetSuite card");
    assert_eq!(
        card["credentials_expire_at"],
        body["certificate_expires_at"]
    );
    assert!(
        card["credentials_days_left"]
            .as_i64()
            .is_some_and(|d| (199..=200).contains(&d)),
        "{card}"
    );
    assert!(!cards.to_string().contains("PRIVATE KEY"));
    // An expired certificate is refused before any call.
    let mut old = rcgen::CertificateParams::new(vec!["erp-bridge.test".into()]).expect("params");
    old.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let old_cert = old.self_signed(&key).expect("cert").pem();
    let expired = json!({ "method": "m2m", "client_id": "client-ow", "certificate_id": "cert-ow",
        "private_key_pem": key.serialize_pem(), "certificate_pem": old_cert });
    let (status, body) = connect(
        &s,
        &admin,
        json!({ "account_id": ONE_WORLD, "credentials": expired, "subsidiary_id": "2" }),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("expired"));
}

async fn only_an_admin_in_person_connects(backend: Backend) {
    let s = setup(backend).await;
    let manager = s.app.signed_in(demo_email(Role::SalesManager)).await;
    let (status, _) = connect(
        &s,
        &manager,
        json!({ "account_id": ACCOUNT, "credentials": tba(SECRET) }),
    )
    .await;
    assert_eq!(status, 403);
    // An Admin's API token may not connect either: that needs a person.
    let admin = s.app.signed_in(demo_email(Role::Admin)).await;
    let (status, token) = s
        .app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/api-tokens",
            json!({ "name": "script", "role": "Admin" }),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    let res = reqwest::Client::new()
        .post(s.app.url("/api/integrations/netsuite/connect"))
        .bearer_auth(token["token"].as_str().expect("token"))
        .json(&json!({ "account_id": ACCOUNT, "credentials": tba(SECRET) }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    // A body missing its credentials is malformed (400), not a NetSuite refusal.
    let (status, _) = connect(&s, &admin, json!({ "account_id": ACCOUNT })).await;
    assert_eq!(status, 400);
}

async fn a_re_check_records_what_netsuite_now_says(backend: Backend) {
    let s = setup(backend).await;
    let admin = s.app.signed_in(demo_email(Role::Admin)).await;
    let validate = || {
        s.app.send_json(
            &admin,
            Method::POST,
            "/api/integrations/netsuite/validate",
            json!({}),
        )
    };
    let (status, _) = validate().await;
    assert_eq!(status, 409, "not connected yet");
    let (status, _) = connect(
        &s,
        &admin,
        json!({ "account_id": ACCOUNT, "credentials": tba(SECRET) }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = validate().await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Connected")),
        "{body}"
    );
    // The token is revoked in NetSuite (here: its secret replaced).
    let status = reqwest::Client::new()
        .post(format!("{}/_sandbox/accounts/{ACCOUNT}/tba", s.sandbox.base_url))
        .json(&json!({ "consumer_key": "ck", "consumer_secret": "cs", "token_id": "tid", "token_secret": "rotated" }))
        .send()
        .await
        .expect("rotate")
        .status();
    assert_eq!(status, 204);
    let (status, body) = validate().await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ReconnectRequired");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or("")
            .contains("INVALID_LOGIN"),
        "{body}"
    );
    assert_eq!(
        netsuite_status(&s, &admin).await.as_deref(),
        Some("ReconnectRequired")
    );
}
