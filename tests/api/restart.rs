//! The app process killed in the middle of syncing invoices, with QuickBooks (the sandbox)
//! running as a process of its own and keeping its books: after a restart every paid order has
//! exactly one invoice — including the one whose create QuickBooks committed while the app was
//! waiting for the answer, and with `requestid` ignored, as one SDK issue reports it can be.

use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::both_backends;
use crate::helpers::{client, Backend, TestDb};
use crate::quickbooks::{give_consent, SandboxClient};
use erp_bridge::server::demo::{DEMO_PASSWORD, DEMO_QBO_CLIENT_ID, DEMO_QBO_CLIENT_SECRET};

pub const BIN: &str = env!("CARGO_BIN_EXE_erp-bridge");
const ORDERS: usize = 16;
const FIRST_WAVE: usize = 6;

pub async fn start_sandbox(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("sandbox")
        .env("SANDBOX_ERP", "quickbooks")
        .env("SANDBOX_BIND", "127.0.0.1:0")
        .env("SANDBOX_DB", dir.join("sandbox.db"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sandbox process");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if let Some(url) = line.strip_prefix("QuickBooks sandbox listening on ") {
                return url.trim().to_string();
            }
        }
        panic!("the sandbox exited before listening");
    })
    .await
    .expect("the sandbox starts");
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn start_app(db_url: &str, port: u16, sandbox: &str) -> Child {
    start_app_with(db_url, port, sandbox, &[("OUTBOX_LEASE_SECONDS", "5")]).await
}

/// The app as its own process against `sandbox`, with extra environment.
pub async fn start_app_with(db_url: &str, port: u16, sandbox: &str, env: &[(&str, &str)]) -> Child {
    let child = Command::new(BIN)
        .args(["serve", "--demo"])
        .envs(env.iter().copied())
        .env("DATABASE_URL", db_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("QBO_ENVIRONMENT", "emulator")
        .env("QBO_EMULATOR_URL", sandbox)
        // The demo's NetSuite sandbox: any free port, a file of its own.
        .env("NETSUITE_SANDBOX_BIND", "127.0.0.1:0")
        .env(
            "NETSUITE_SANDBOX_DB",
            std::env::temp_dir().join(format!("erp-bridge-netsuite-{port}.db")),
        )
        .env("QBO_THROTTLE_WAIT_SECONDS", "0.2")
        .env("OUTBOX_POLL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("app process");
    let health = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..300 {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the app did not come up");
}

/// Polls the sandbox until `cond(stats, invoice count)` holds.
pub async fn wait_until(sandbox: &SandboxClient, what: &str, cond: impl Fn(&Value, usize) -> bool) {
    for _ in 0..600 {
        let (stats, n) = (sandbox.stats().await, invoices(sandbox).await.len());
        if cond(&stats, n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Every invoice the company holds.
pub async fn invoices(sandbox: &SandboxClient) -> Vec<Value> {
    let q = sandbox.query("select * from Invoice maxresults 1000").await;
    q["Invoice"].as_array().cloned().unwrap_or_default()
}

/// A client signed in as the demo Admin of the app at `base`.
pub async fn sign_in(base: &str) -> reqwest::Client {
    let admin = client();
    let res = admin
        .post(format!("{base}/auth/login"))
        .header("origin", base)
        .form(&[("email", "admin@demo.example"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    admin
}

/// Signs in as the demo Admin of the app at `base` and connects QuickBooks through the real
/// OAuth flow against the sandbox; returns the signed-in client.
pub async fn sign_in_and_connect(base: &str, sandbox_url: &str) -> reqwest::Client {
    let admin = sign_in(base).await;
    let auth: Value = admin
        .get(format!("{base}/api/integrations/quickbooks/authorize"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("json");
    let authorize = auth["authorize_url"].as_str().expect("url");
    assert!(authorize.contains(DEMO_QBO_CLIENT_ID) && !authorize.contains(DEMO_QBO_CLIENT_SECRET));
    let back = give_consent(sandbox_url, authorize, "allow").await;
    assert_eq!(
        admin.get(&back).send().await.expect("callback").status(),
        303
    );

    admin
}

/// Places `n` orders of the demo tenant's first customer and product and marks each paid;
/// returns their order numbers.
pub async fn place_paid_orders(admin: &reqwest::Client, base: &str, n: usize) -> Vec<String> {
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            admin
                .get(url)
                .send()
                .await
                .expect("get")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let products = get("/api/v1/products").await;
    let customers = get("/api/v1/customers").await;
    let (product, customer) = (&products["items"][0]["id"], &customers["items"][0]["id"]);
    let mut numbers = Vec::with_capacity(n);
    for _ in 0..n {
        let order: Value = admin
            .post(format!("{base}/api/v1/orders"))
            .header("origin", base)
            .json(&json!({ "customer_id": customer, "shipping_amount": 250,
                "items": [{ "product_id": product, "quantity": 1 }] }))
            .send()
            .await
            .expect("order")
            .json()
            .await
            .expect("json");
        let id = order["id"].as_str().expect("id");
        let paid = admin
            .post(format!("{base}/api/v1/orders/{id}/mark-paid"))
            .header("origin", base)
            .json(&json!({}))
            .send()
            .await
            .expect("paid");
        let status = paid.status();
        assert!(
            status.is_success(),
            "mark-paid: {status} {}",
            paid.text().await.unwrap_or_default()
        );
        numbers.push(order["order_number"].as_i64().expect("n").to_string());
    }
    numbers
}

both_backends!(killing_the_app_mid_sync_never_duplicates_an_invoice);

async fn killing_the_app_mid_sync_never_duplicates_an_invoice(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::new(backend).await;
    let (_sandbox_process, sandbox_url) = start_sandbox(dir.path()).await;
    let sandbox = SandboxClient::new(&sandbox_url);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut app = start_app(&db.url, port, &sandbox_url).await;

    let admin = sign_in_and_connect(&base, &sandbox_url).await;

    // Slow QuickBooks down, make it ignore requestid, and create paid orders.
    sandbox
        .control(
            "/_sandbox/faults",
            json!({ "latency_ms": 120, "ignore_request_id": true }),
        )
        .await;
    // A first wave goes through normally.
    let mut numbers = place_paid_orders(&admin, &base, FIRST_WAVE).await;
    wait_until(&sandbox, "the first wave", |_, n| n >= FIRST_WAVE).await;
    // Then QuickBooks commits the next write but withholds the answer…
    sandbox.control("/_sandbox/faults", json!({ "latency_ms": 120, "ignore_request_id": true, "commit_then_timeout": 1, "hang_ms": 60000 })).await;
    numbers.extend(place_paid_orders(&admin, &base, ORDERS - FIRST_WAVE).await);
    wait_until(&sandbox, "a withheld answer", |s, _| {
        s["withheld_answers"].as_i64() == Some(1)
    })
    .await;
    // …and the app dies right then, with deliveries in flight.
    app.kill().await.expect("kill");
    let ours = db.connect().await;
    let tenant = crate::outbox::demo_tenant(&ours).await;
    let in_flight = crate::outbox::rows(&ours, tenant)
        .await
        .into_iter()
        .filter(|r| {
            r.event_type == "OrderPaid"
                && r.target_system.as_deref() == Some("QuickBooks")
                && r.status != "Completed"
        })
        .count();
    assert!(in_flight > 0, "the kill happened mid-sync");
    ours.close().await;

    // Restarted, it finishes the work: every order invoiced exactly once.
    let _app = start_app(&db.url, port, &sandbox_url).await;
    wait_until(&sandbox, "all invoices", |_, n| n >= ORDERS).await;
    tokio::time::sleep(Duration::from_secs(6)).await; // past a lease: nothing else trickles in
    let invoices = invoices(&sandbox).await;
    let mut docs: Vec<String> = invoices
        .iter()
        .map(|i| i["DocNumber"].as_str().expect("doc").to_string())
        .collect();
    docs.sort();
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(docs, expected, "exactly one invoice per paid order");
}
