//! Our NetSuite client against the NetSuite sandbox over real HTTP: machine-to-machine and
//! token-based authentication, upserts that never add lines when repeated, SuiteQL, NetSuite's
//! refusals read into plain errors, and the concurrency limit waited out.

use erp_bridge::server::erp::netsuite::account::AccountId;
use erp_bridge::server::erp::netsuite::client::{
    Account, Credentials, NetSuiteClient, NsError, Settings,
};
use erp_bridge::server::erp::netsuite::m2m::M2mCredentials;
use erp_bridge::server::erp::netsuite::tba::TbaCredentials;
use erp_bridge::server::sandbox::SandboxHandle;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

const ACCOUNT: &str = "1234567_SB1";

struct Setup {
    handle: SandboxHandle,
    _dir: tempfile::TempDir,
}

async fn sandbox() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let handle = crate::netsuite_sandbox::tba_sandbox(dir.path(), "ts").await;
    Setup { handle, _dir: dir }
}

fn tba_account(base: &str, token_secret: &str) -> Account {
    Account {
        id: ACCOUNT.parse::<AccountId>().expect("id"),
        base_url: base.into(),
        credentials: Credentials::Tba(TbaCredentials {
            consumer_key: "ck".into(),
            consumer_secret: SecretString::from("cs"),
            token_id: "tid".into(),
            token_secret: SecretString::from(token_secret),
        }),
    }
}

/// An M2M account: a fresh certificate registered in the sandbox.
async fn m2m_account(base: &str) -> Account {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["erp-bridge.test".into()]).expect("params");
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(365);
    let cert = params.self_signed(&key).expect("cert");
    let status = reqwest::Client::new()
        .post(format!("{base}/_sandbox/accounts/{ACCOUNT}/certificates"))
        .json(&json!({ "certificate_id": "cert-1", "client_id": "client-1", "certificate_pem": cert.pem() }))
        .send()
        .await
        .expect("register")
        .status();
    assert_eq!(status, 204);
    Account {
        id: ACCOUNT.parse::<AccountId>().expect("id"),
        base_url: base.into(),
        credentials: Credentials::M2m(M2mCredentials {
            client_id: "client-1".into(),
            certificate_id: "cert-1".into(),
            private_key_pem: SecretString::from(key.serialize_pem()),
        }),
    }
}

fn client() -> NetSuiteClient {
    NetSuiteClient::new(Settings {
        throttle_wait: Duration::from_millis(50),
        ..Settings::default()
    })
    .expect("client")
}

#[tokio::test]
async fn upserts_queries_and_refusals_over_m2m() {
    let s = sandbox().await;
    let acct = m2m_account(&s.handle.base_url).await;
    let c = client();
    let customer = c
        .upsert(
            &acct,
            "customer",
            "cust-1",
            &json!({ "companyName": "Acme Supplies", "email": "o@acme.example" }),
            None,
        )
        .await
        .expect("customer");
    let again = c
        .upsert(
            &acct,
            "customer",
            "cust-1",
            &json!({ "companyName": "Acme Supplies Ltd" }),
            None,
        )
        .await
        .expect("again");
    assert_eq!(customer, again, "one record per external id");
    // The SKU's item, by SuiteQL.
    let items = c
        .suiteql(
            &acct,
            "SELECT id FROM item WHERE itemid = ?",
            &["WID-100"],
            10,
            0,
        )
        .await
        .expect("item");
    let item = items.items[0]["id"].clone();
    let order = json!({
        "entity": { "id": customer },
        "item": { "items": [ { "item": { "id": item }, "quantity": 3 } ] }
    });
    for _ in 0..2 {
        c.upsert(&acct, "salesOrder", "order-1", &order, Some("item"))
            .await
            .expect("order");
    }
    let page = c
        .suiteql(
            &acct,
            "SELECT transaction, quantity FROM transactionline",
            &[],
            1000,
            0,
        )
        .await
        .expect("lines");
    assert_eq!(
        page.items.len(),
        1,
        "a repeated upsert with ?replace=item adds no line"
    );
    assert_eq!(page.items[0]["quantity"], "3");
    let so = c
        .get(&acct, "salesOrder", "eid:order-1")
        .await
        .expect("order");
    assert_eq!(so["total"], 37.5);
    // NetSuite's refusals, read.
    let bad = json!({ "entity": { "id": customer }, "item": { "items": [ { "item": { "id": "9999" } } ] } });
    match c
        .upsert(&acct, "salesOrder", "order-2", &bad, Some("item"))
        .await
    {
        Err(NsError::Refused { code, path, .. }) => {
            assert_eq!(code, "INVALID_CONTENT");
            assert_eq!(path.as_deref(), Some("item.items[0].item"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.get(&acct, "customer", "424242").await,
        Err(NsError::NotFound)
    );
    let created = c
        .create(&acct, "customer", &json!({ "companyName": "Created Ltd" }))
        .await
        .expect("create");
    assert!(
        created.parse::<i64>().is_ok(),
        "the id from Location: {created}"
    );
}

#[tokio::test]
async fn tba_signs_every_request_and_a_refusal_says_what_to_check() {
    let s = sandbox().await;
    let c = client();
    let ok = tba_account(&s.handle.base_url, "ts");
    let page = c
        .suiteql(&ok, "SELECT symbol FROM currency ORDER BY id", &[], 2, 2)
        .await
        .expect("query with signed limit and offset");
    assert_eq!(page.items[0]["symbol"], "CAD");
    assert!(page.total >= 4);
    let wrong = tba_account(&s.handle.base_url, "not-it");
    let err = c.get(&wrong, "currency", "1").await.expect_err("refused");
    assert!(matches!(err, NsError::Auth(_)));
    let text = err.to_string();
    assert!(
        text.contains("Login Audit Trail") && text.contains("REST Web Services"),
        "{text}"
    );
}

#[tokio::test]
async fn the_concurrency_limit_is_waited_out_and_nothing_is_lost() {
    let s = sandbox().await;
    let control = reqwest::Client::new();
    for (path, body) in [
        ("/_sandbox/limits", json!({ "concurrency": 1 })),
        ("/_sandbox/faults", json!({ "latency_ms": 100 })),
    ] {
        let status = control
            .post(format!("{}{path}", s.handle.base_url))
            .json(&body)
            .send()
            .await
            .expect("control")
            .status();
        assert_eq!(status, 204);
    }
    let acct = tba_account(&s.handle.base_url, "ts");
    let c = client();
    let writes = (0..4).map(|i| {
        let (c, acct) = (c.clone(), acct.clone());
        async move {
            c.upsert(
                &acct,
                "customer",
                &format!("busy-{i}"),
                &json!({ "companyName": format!("Busy {i}") }),
                None,
            )
            .await
        }
    });
    let results = futures::future::join_all(writes).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats: serde_json::Value = control
        .get(format!("{}/_sandbox/stats", s.handle.base_url))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert!(
        stats["throttled"].as_u64().unwrap_or(0) > 0,
        "the limit was met: {stats}"
    );
    let page = c
        .suiteql(&acct, "SELECT id FROM customer", &[], 10, 0)
        .await
        .expect("customers");
    assert_eq!(page.items.len(), 4, "each write landed once");
}

#[tokio::test]
async fn a_cached_token_serves_only_the_credentials_that_earned_it_and_is_renewed_once_revoked() {
    let s = sandbox().await;
    let base = s.handle.base_url.clone();
    let acct = m2m_account(&base).await;
    let c = client();
    c.get(&acct, "currency", "1")
        .await
        .expect("first call fetches a token");
    // Other credentials for the same account (a certificate NetSuite never saw) get no free
    // ride on the cached token.
    let key = rcgen::KeyPair::generate().expect("key");
    let stranger = Account {
        credentials: Credentials::M2m(M2mCredentials {
            client_id: "client-1".into(),
            certificate_id: "cert-unknown".into(),
            private_key_pem: SecretString::from(key.serialize_pem()),
        }),
        ..acct.clone()
    };
    assert!(matches!(
        c.get(&stranger, "currency", "1").await,
        Err(NsError::Auth(_))
    ));
    // NetSuite revokes the tokens: the next call is refused once, then a fresh token works.
    let revoked: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/_sandbox/accounts/{ACCOUNT}/revoke-tokens"))
        .send()
        .await
        .expect("revoke")
        .json()
        .await
        .expect("json");
    assert!(revoked["revoked"].as_u64().unwrap_or(0) >= 1, "{revoked}");
    c.get(&acct, "currency", "1")
        .await
        .expect("renewed after the revocation");
}
