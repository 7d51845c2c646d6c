//! Chaos: bulk delivery of 120 paid orders at the default batch size while QuickBooks (the
//! sandbox, a process of its own) answers 5xx and 429 at random, commits writes whose answers it
//! then withholds, and ignores `requestid` — and the app is SIGKILLed three times mid-delivery.
//! Once the faults stop, the drain finishes within 150 s with exactly one invoice and one payment
//! per order.

use serde_json::json;
use std::time::{Duration, Instant};

use crate::both_backends;
use crate::helpers::{Backend, TestDb};
use crate::quickbooks::SandboxClient;
use crate::restart::{
    free_port, invoices, place_paid_orders, sign_in_and_connect, start_app_with, start_sandbox,
    wait_until,
};

const ORDERS: usize = 120;
const KILLS: usize = 3;
/// A short retry unit, so that rows that failed during the storm come due soon after it: the
/// engine's backoff policy is the same, only its unit is shrunk.
const ENV: &[(&str, &str)] = &[
    ("OUTBOX_LEASE_SECONDS", "5"),
    ("OUTBOX_RETRY_UNIT_MS", "500"),
    ("OUTBOX_EVENT_DEADLINE_SECONDS", "5"),
    ("QBO_REQUEST_TIMEOUT_SECONDS", "2"),
];

both_backends!(bulk_delivery_survives_kills_and_faults_with_one_invoice_per_order);

async fn bulk_delivery_survives_kills_and_faults_with_one_invoice_per_order(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::new(backend).await;
    let (_sandbox_process, sandbox_url) = start_sandbox(dir.path()).await;
    let sandbox = SandboxClient::new(&sandbox_url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut app = start_app_with(&db.url, port, &sandbox_url, ENV).await;
    let admin = sign_in_and_connect(&base, &sandbox_url).await;

    // The storm, before the orders exist, so that every delivery meets it.
    let storm = json!({ "error_rate_5xx": 0.08, "error_rate_429": 0.1, "latency_ms": 15,
        "ignore_request_id": true, "commit_then_timeout": 4, "hang_ms": 3000 });
    sandbox.control("/_sandbox/faults", storm.clone()).await;
    let numbers = place_paid_orders(&admin, &base, ORDERS).await;

    // Kill the app each time more invoices have appeared, and start it again.
    let mut killed_mid_delivery = 0;
    for kill in 0..KILLS {
        let before = invoices(&sandbox).await.len();
        let target = (before + 10).min(ORDERS - 1);
        wait_until(&sandbox, "progress before a kill", |_, n| n >= target).await;
        app.kill().await.expect("SIGKILL");
        let ours = db.connect().await;
        let tenant = crate::outbox::demo_tenant(&ours).await;
        let in_flight = crate::outbox::rows(&ours, tenant)
            .await
            .iter()
            .filter(|r| r.event_type == "OrderPaid" && r.status == "Processing")
            .count();
        ours.close().await;
        if in_flight > 0 {
            killed_mid_delivery += 1;
        }
        // Another withheld answer for the next incarnation to stumble on.
        sandbox.control("/_sandbox/faults", storm.clone()).await;
        app = start_app_with(&db.url, port, &sandbox_url, ENV).await;
        eprintln!(
            "kill {} at {} invoices",
            kill + 1,
            invoices(&sandbox).await.len()
        );
    }

    assert!(
        killed_mid_delivery > 0,
        "at least one kill struck with deliveries in flight"
    );

    // The faults stop; the drain must finish within 150 s.
    sandbox.control("/_sandbox/faults", json!({})).await;
    let calm = Instant::now();
    loop {
        let n = invoices(&sandbox).await.len();
        let ours = db.connect().await;
        let tenant = crate::outbox::demo_tenant(&ours).await;
        let open = crate::outbox::rows(&ours, tenant)
            .await
            .into_iter()
            .filter(|r| {
                r.target_system.is_some()
                    && !matches!(r.status.as_str(), "Completed" | "Superseded")
            })
            .count();
        ours.close().await;
        if n >= ORDERS && open == 0 {
            break;
        }
        assert!(
            calm.elapsed() < Duration::from_secs(150),
            "drained within 150 s of the faults stopping: {n} invoices, {open} rows open"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "drained {:.1} s after the faults stopped",
        calm.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(6)).await; // past a lease: nothing else trickles in
    let mut docs: Vec<String> = invoices(&sandbox)
        .await
        .iter()
        .map(|i| i["DocNumber"].as_str().expect("doc").to_string())
        .collect();
    docs.sort();
    let mut expected = numbers;
    expected.sort();
    assert_eq!(docs, expected, "exactly one invoice per paid order");
    // And exactly one payment per order (each was paid by one payment), applied to its invoice.
    let payments = sandbox.query("select * from Payment maxresults 1000").await;
    let mut notes: Vec<String> = payments["Payment"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| p["PrivateNote"].as_str().unwrap_or_default().to_string())
        .collect();
    let posted = notes.len();
    notes.sort();
    notes.dedup();
    assert_eq!(
        (posted, notes.len()),
        (ORDERS, ORDERS),
        "exactly one payment per paid order"
    );
    drop(app);
}
