//! QuickBooks webhooks: Intuit's own signed samples verify; signed POSTs land in the inbox once,
//! routed by realm; bad signatures, unknown realms, unreadable bodies and floods are answered as
//! documented, and every POST leaves a receipt.

use crate::both_backends;
use crate::helpers::{client, spawn_app_with, Backend, TestApp, TEST_VERIFIER_TOKEN};
use erp_bridge::server::erp::quickbooks::webhook;
use erp_bridge::server::store::{connections, inbox, webhook_receipts};
use erp_bridge::server::time;
use secrecy::SecretString;
use serde_json::Value;
use std::path::PathBuf;
use uuid::Uuid;

/// `../shared/vectors/quickbooks-online`, or None (with a note) outside CI when absent.
pub(crate) fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/quickbooks-online");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must have ../shared/vectors beside the clone"
    );
    eprintln!("note: ../shared/vectors absent; skipping the Intuit sample checks");
    None
}

fn vector(dir: &std::path::Path, name: &str) -> (Value, Vec<u8>) {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("vector"))
            .expect("json");
    let raw = std::fs::read(dir.join(meta["raw_body_file"].as_str().expect("raw file")))
        .expect("raw body");
    (meta, raw)
}

#[test]
fn intuits_signed_samples_verify_and_their_negative_cases_do_not() {
    let Some(dir) = vectors() else { return };
    for name in [
        "webhook_sig_python_quickbooks.json",
        "webhook_sig_java_sdk_legacy.json",
        "webhook_sig_dotnet_sdk_legacy.json",
    ] {
        let (meta, raw) = vector(&dir, name);
        let token = SecretString::from(meta["verifier_token"].as_str().expect("token").to_string());
        let signature = meta["intuit_signature"].as_str().expect("signature");
        assert!(webhook::verify_signature(&token, &raw, signature), "{name}");
        assert_eq!(
            webhook::sign(&token, &raw),
            signature,
            "{name}: our signer agrees"
        );
        for case in meta["negative_cases"].as_array().expect("cases") {
            let body = case["body"]
                .as_str()
                .map(|b| b.as_bytes().to_vec())
                .unwrap_or_else(|| raw.clone());
            let sig = case["signature"].as_str().unwrap_or(signature);
            assert!(
                !webhook::verify_signature(&token, &body, sig),
                "{name}: {}",
                case["note"]
            );
        }
    }
}

#[test]
fn intuits_payload_samples_parse() {
    let Some(dir) = vectors() else { return };
    let (_, dotnet) = vector(&dir, "webhook_sig_dotnet_sdk_legacy.json");
    let legacy = webhook::parse(&dotnet)
        .expect("legacy parses")
        .notifications;
    let names: Vec<(&str, &str, &str)> = legacy
        .iter()
        .map(|n| {
            (
                n.entity.as_str(),
                n.entity_id.as_str(),
                n.operation.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![("Vendor", "40", "Update"), ("Customer", "43", "Create")]
    );
    let (_, java) = vector(&dir, "webhook_sig_java_sdk_legacy.json");
    assert!(
        !webhook::parse(&java)
            .expect("java sample parses")
            .notifications
            .is_empty(),
        "offset without a colon is kept as sent"
    );
    let (meta, cloud) = vector(&dir, "webhook_cloudevents_dotnet_sdk.json");
    let parsed = webhook::parse(&cloud).expect("CloudEvents parse");
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let events = parsed.notifications;
    assert_eq!(events[0].realm_id, "310687");
    assert_eq!(events[0].event_id, "d1a3aedd-9670-41bf-a4f9-c148a1cc4e03");
    assert_eq!(
        (events[0].entity.as_str(), events[0].operation.as_str()),
        ("Class", "Create")
    );
    assert!(meta["body"].is_string());
}

both_backends!(
    signed_notifications_reach_the_inbox_once,
    bad_signatures_and_unknown_realms_are_answered_and_recorded,
    cloud_events_route_by_account_and_unreadable_bodies_are_refused,
    floods_are_rate_limited,
    junk_never_crowds_out_signed_deliveries_nor_grows_the_database,
    an_unrecognised_event_is_skipped_and_its_neighbours_accepted,
    concurrent_posts_share_commits_and_count_each_event_once,
);

async fn connect_realm(app: &TestApp, tenant: Uuid, realm: &str) {
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: realm,
        company_name: "Sandbox Company",
        connected_by: "test",
    };
    connections::upsert_connected(&app.state.db, tenant, &company, time::now())
        .await
        .expect("connect");
}

async fn post(
    app: &TestApp,
    body: &[u8],
    signature: Option<&str>,
    content_type: &str,
) -> (u16, Value) {
    let mut req = client()
        .post(app.url("/api/integrations/quickbooks/webhook"))
        .header("content-type", content_type);
    if let Some(sig) = signature {
        req = req.header("intuit-signature", sig);
    }
    crate::helpers::read_json(req.body(body.to_vec())).await
}

fn signed(body: &[u8]) -> String {
    webhook::sign(&SecretString::from(TEST_VERIFIER_TOKEN), body)
}

const LEGACY: &str = r#"{"eventNotifications":[{"realmId":"4620816365","dataChangeEvent":{"entities":[
    {"name":"Payment","id":"91","operation":"Create","lastUpdated":"2026-11-20T10:00:00.000Z"},
    {"name":"Invoice","id":"130","operation":"Update","lastUpdated":"2026-11-20T10:00:01.000Z"}]}}]}"#;

async fn signed_notifications_reach_the_inbox_once(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    connect_realm(&app, tenant, "4620816365").await;
    let sig = signed(LEGACY.as_bytes());
    let (status, body) = post(&app, LEGACY.as_bytes(), Some(&sig), "application/json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["received"].as_u64(),
            body["new"].as_u64(),
            body["unroutable"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    let (status, again) = post(&app, LEGACY.as_bytes(), Some(&sig), "application/json").await;
    assert_eq!(
        (status, again["new"].as_u64()),
        (200, Some(0)),
        "a re-delivery is recorded once"
    );
    let rows = inbox::list(&app.state.db, tenant, 10).await.expect("inbox");
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.status == "Pending" && r.external_company_id.as_deref() == Some("4620816365")));
    let receipts = webhook_receipts::recent(&app.state.db, "QuickBooks", 10)
        .await
        .expect("receipts");
    assert_eq!(receipts.len(), 2);
    assert!(receipts
        .iter()
        .all(|r| r.signature_ok && r.routed && r.tenant_id == Some(tenant) && r.event_count == 2));
}

async fn bad_signatures_and_unknown_realms_are_answered_and_recorded(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let (missing, body) = post(&app, LEGACY.as_bytes(), None, "application/json").await;
    assert_eq!(
        (missing, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let wrong = webhook::sign(&SecretString::from("someone-else"), LEGACY.as_bytes());
    assert_eq!(
        post(&app, LEGACY.as_bytes(), Some(&wrong), "application/json")
            .await
            .0,
        401
    );
    // Correctly signed, but no tenant is connected to realm 4620816365.
    let (status, body) = post(
        &app,
        LEGACY.as_bytes(),
        Some(&signed(LEGACY.as_bytes())),
        "application/json",
    )
    .await;
    assert_eq!(
        (status, body["unroutable"].as_u64(), body["new"].as_u64()),
        (200, Some(2), Some(0))
    );
    // The signed POST has a receipt; the refused ones only count, per minute and outcome.
    let receipts = webhook_receipts::recent(&app.state.db, "QuickBooks", 10)
        .await
        .expect("receipts");
    let by_status: Vec<(i64, bool, bool)> = receipts
        .iter()
        .map(|r| (r.status_code, r.signature_ok, r.routed))
        .collect();
    assert_eq!(by_status, vec![(200, true, false)]);
    assert_eq!(
        receipts[0].external_company_id.as_deref(),
        Some("4620816365")
    );
    assert_eq!(receipts[0].tenant_id, None);
    assert_eq!(
        refusal_counts(&app).await,
        vec![
            ("bad_signature".to_string(), 1),
            ("missing_signature".to_string(), 1)
        ]
    );
}

/// The refusal counts written so far, summed per outcome.
async fn refusal_counts(app: &TestApp) -> Vec<(String, i64)> {
    app.state
        .webhook_refusals
        .flush(&app.state.db)
        .await
        .expect("flush");
    let rows = webhook_receipts::refusals_since(
        &app.state.db,
        "QuickBooks",
        time::now() - chrono::TimeDelta::hours(1),
    )
    .await
    .expect("refusals");
    let mut sums = std::collections::BTreeMap::new();
    for r in rows {
        *sums.entry(r.outcome).or_insert(0) += r.count;
    }
    sums.into_iter().collect()
}

async fn junk_never_crowds_out_signed_deliveries_nor_grows_the_database(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.webhook_rate_per_second = 2).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    connect_realm(&app, tenant, "4620816365").await;
    let wrong = webhook::sign(&SecretString::from("someone-else"), LEGACY.as_bytes());
    for _ in 0..200 {
        assert_eq!(
            post(&app, LEGACY.as_bytes(), Some(&wrong), "application/json")
                .await
                .0,
            401
        );
    }
    // The junk spent nothing of the signed budget.
    let (status, body) = post(
        &app,
        LEGACY.as_bytes(),
        Some(&signed(LEGACY.as_bytes())),
        "application/json",
    )
    .await;
    assert_eq!((status, body["new"].as_u64()), (200, Some(2)), "{body}");
    let receipts = webhook_receipts::recent(&app.state.db, "QuickBooks", 500)
        .await
        .expect("receipts");
    assert_eq!(receipts.len(), 1, "one receipt: the signed POST");
    let counts = refusal_counts(&app).await;
    assert_eq!(counts, vec![("bad_signature".to_string(), 200)]);
    let rows = webhook_receipts::refusals_since(
        &app.state.db,
        "QuickBooks",
        time::now() - chrono::TimeDelta::hours(1),
    )
    .await
    .expect("refusals");
    assert!(rows.len() <= 2, "one row per minute and outcome: {rows:?}");
}

async fn an_unrecognised_event_is_skipped_and_its_neighbours_accepted(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    connect_realm(&app, app.other_tenant, "310687").await;
    let body = br#"[{"specversion":"1.0","id":"ce-1","source":"intuit.x","type":"qbo.payment.created.v1",
        "time":"2026-11-20T10:00:00Z","intuitentityid":"77","intuitaccountid":"310687","data":{}},
        {"specversion":"1.0","id":"ce-2","source":"intuit.x","type":"com.intuit.brand.new.event",
        "time":"2026-11-20T10:00:00Z","intuitentityid":"78","intuitaccountid":"310687","data":{}}]"#;
    let sig = signed(body);
    for _ in 0..2 {
        let (status, res) = post(&app, body, Some(&sig), "application/cloudevents+json").await;
        assert_eq!(
            (status, res["received"].as_u64(), res["skipped"].as_u64()),
            (200, Some(1), Some(1)),
            "{res}"
        );
    }
    let rows = inbox::list(&app.state.db, app.other_tenant, 10)
        .await
        .expect("inbox");
    assert_eq!(rows.len(), 1, "the known event, once");
    let receipts = webhook_receipts::recent(&app.state.db, "QuickBooks", 10)
        .await
        .expect("receipts");
    let note = receipts[0].error.as_deref().unwrap_or_default();
    assert!(
        note.contains("skipped 1") && note.contains("com.intuit.brand.new.event"),
        "{note}"
    );
}

async fn cloud_events_route_by_account_and_unreadable_bodies_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    connect_realm(&app, app.other_tenant, "310687").await;
    let body = br#"[{"specversion":"1.0","id":"ce-77","source":"intuit.x","type":"qbo.payment.created.v1",
        "datacontenttype":"application/json","time":"2026-11-20T10:00:00Z","intuitentityid":"77","intuitaccountid":"310687","data":{}}]"#;
    let (status, res) = post(
        &app,
        body,
        Some(&signed(body)),
        "application/cloudevents+json",
    )
    .await;
    assert_eq!((status, res["new"].as_u64()), (200, Some(1)), "{res}");
    let rows = inbox::list(&app.state.db, app.other_tenant, 10)
        .await
        .expect("inbox");
    assert_eq!(
        (
            rows[0].external_event_id.as_str(),
            rows[0].entity_type.as_deref()
        ),
        ("ce-77", Some("Payment"))
    );
    let demo = crate::outbox::demo_tenant(&app.state.db).await;
    assert!(
        inbox::list(&app.state.db, demo, 10)
            .await
            .expect("inbox")
            .is_empty(),
        "routed to its own tenant only"
    );
    let garbage = br#"{"not":"a webhook"}"#;
    let (status, res) = post(&app, garbage, Some(&signed(garbage)), "application/json").await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
}

async fn floods_are_rate_limited(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.webhook_rate_per_second = 1).await;
    let sig = signed(LEGACY.as_bytes());
    let first = post(&app, LEGACY.as_bytes(), Some(&sig), "application/json")
        .await
        .0;
    let second = post(&app, LEGACY.as_bytes(), Some(&sig), "application/json")
        .await
        .0;
    assert_eq!((first, second), (200, 429));
}

#[test]
fn intuits_fault_samples_parse_and_classify() {
    use erp_bridge::server::erp::quickbooks::fault::{Fault, FaultClass};
    let Some(dir) = vectors() else { return };
    let expected = [
        (
            "fault_10000_system_quickbooks_ruby.xml",
            500,
            "10000",
            FaultClass::Retryable,
        ),
        (
            "fault_2020_required_param_exquickbooks.json",
            400,
            "2020",
            FaultClass::Permanent,
        ),
        (
            "fault_3001_throttle_403_quickbooks_ruby.xml",
            403,
            "3001",
            FaultClass::Throttled,
        ),
        (
            "fault_3001_throttle_429_quickbooks_ruby.xml",
            429,
            "3001",
            FaultClass::Throttled,
        ),
        (
            "fault_4000_query_parse_exquickbooks.json",
            400,
            "4000",
            FaultClass::Permanent,
        ),
        (
            "fault_4001_invalid_query_quickbooks_ruby.xml",
            400,
            "4001",
            FaultClass::Permanent,
        ),
        (
            "fault_401_3200_lowercase_issue.json",
            401,
            "3200",
            FaultClass::Auth,
        ),
        (
            "fault_403_3100_lowercase_issue.json",
            403,
            "3100",
            FaultClass::Auth,
        ),
        (
            "fault_5010_stale_object_exquickbooks.json",
            400,
            "5010",
            FaultClass::Stale,
        ),
        (
            "fault_610_object_not_found_exquickbooks.json",
            400,
            "610",
            FaultClass::Permanent,
        ),
        (
            "fault_6240_duplicate_customer_quickbooks_ruby.xml",
            400,
            "6240",
            FaultClass::DuplicateName,
        ),
        (
            "fault_6240_duplicate_name_quickbooks_ruby.json",
            400,
            "6240",
            FaultClass::DuplicateName,
        ),
    ];
    for (file, status, code, class) in expected {
        let body = std::fs::read(dir.join(file)).expect("vector");
        let fault = Fault::parse(status, &body).unwrap_or_else(|| panic!("{file} parses"));
        assert_eq!((fault.code(), fault.class()), (code, class), "{file}");
        assert!(!fault.errors[0].message.is_empty(), "{file}: message");
    }
}

/// Many POSTs at once are written together (group commit): every event lands once, each answer
/// counts as new only what it brought first, and every POST leaves its receipt.
async fn concurrent_posts_share_commits_and_count_each_event_once(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    connect_realm(&app, tenant, "4620816365").await;
    // 24 POSTs of 5 events drawn from 40 distinct ids: plenty of overlap between them.
    let bodies: Vec<String> = (0..24)
        .map(|p| {
            let events: Vec<Value> = (0..5)
                .map(|e| {
                    serde_json::json!({ "specversion": "1.0", "id": format!("ev-{}", (p * 5 + e) % 40),
                        "source": "intuit.test", "type": "qbo.payment.created.v1", "time": "2026-11-21T10:00:00Z",
                        "intuitentityid": ((p * 5 + e) % 40).to_string(), "intuitaccountid": "4620816365", "data": {} })
                })
                .collect();
            Value::Array(events).to_string()
        })
        .collect();
    let posts = bodies.iter().map(|b| {
        let app = &app;
        async move {
            post(
                app,
                b.as_bytes(),
                Some(&signed(b.as_bytes())),
                "application/cloudevents+json",
            )
            .await
        }
    });
    let answers = futures::future::join_all(posts).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    let new: u64 = answers
        .iter()
        .map(|(_, b)| b["new"].as_u64().expect("new"))
        .sum();
    assert_eq!(new, 40, "each distinct event counted new exactly once");
    let rows = inbox::list(&app.state.db, tenant, 100)
        .await
        .expect("inbox");
    assert_eq!(rows.len(), 40);
    let receipts = webhook_receipts::recent(&app.state.db, "QuickBooks", 100)
        .await
        .expect("receipts");
    assert_eq!(receipts.len(), 24);
}
