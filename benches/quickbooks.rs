//! QuickBooks benchmarks. `cargo bench --features ssr --bench quickbooks` (set TEST_DATABASE_URL
//! or BENCH_DATABASE_URL to measure webhook ingestion on PostgreSQL too). Figures go to
//! BENCHMARKS.md with the machine and this command.
//!
//! 1. Bulk sync: N paid orders (BENCH_QBO_ORDERS, default 1,000) delivered by the outbox worker
//!    to the QuickBooks sandbox with Intuit's limits on, time-scaled (BENCH_TIME_SCALE, default
//!    10: a "minute" lasts 6 s): one order per call, then through the batch endpoint; and 100
//!    orders with the limits off. Reports the time against the least the limits allow, requests,
//!    429s, invoices, duplicates and failed attempts.
//! 2. Webhook ingestion: the `erp-bridge` binary as its own process, signed CloudEvents POSTs of
//!    BENCH_WEBHOOK_BATCH events (default 20): saturation throughput with 8 senders, then a paced
//!    5,000 events/s run for latency; the server's resident memory is sampled throughout.
//! 3. Reconciliation (runs first; BENCH_SKIP_RECON skips it): the report over BENCH_RECON_ORDERS
//!    paid orders (default 10,000) and their invoices and payments, with Intuit's limits on at
//!    real time and ten drifts planted by hand: calls, requests seen by the sandbox, rows, time.

mod common;

use erp_bridge::domain::commerce::{CustomerInput, NewOrder, NewOrderItem, ProductInput};
use erp_bridge::domain::connection::Provider;
use erp_bridge::server::auth::Principal;
use erp_bridge::server::crypto::{Cipher, DEMO_MASTER_KEY};
use erp_bridge::server::erp::quickbooks::client::QboClient;
use erp_bridge::server::erp::quickbooks::config::{Endpoints, Environment, Pacing, QboSettings};
use erp_bridge::server::erp::quickbooks::connector::QuickBooks;
use erp_bridge::server::erp::quickbooks::webhook::{sign, SIGNATURE_HEADER};
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::sandbox::quickbooks::{self as sandbox, Limits, SandboxConfig};
use erp_bridge::server::service::tokens::{seal, TokenSet};
use erp_bridge::server::service::{customers, orders, reconciliation, tenants};
use erp_bridge::server::store::{connections, Db};
use erp_bridge::server::time;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const REALM: &str = sandbox::DEFAULT_COMPANIES[0].0;

use common::{count, env};

struct Bulk {
    label: &'static str,
    orders: usize,
    batch: bool,
    limits: bool,
    scale: f64,
}

/// A tenant with `orders` paid orders (two lines and shipping each) on SQLite, connected to a
/// sandbox company, and the connector and worker that deliver them.
struct Rig {
    _dir: tempfile::TempDir,
    handle: sandbox::SandboxHandle,
    http: reqwest::Client,
    db: Db,
    p: Principal,
    token: String,
    window: Duration,
    cipher: Cipher,
    worker: OutboxWorker,
}

/// A QuickBooks connector to the sandbox at `base` whose client paces itself to Intuit's limits
/// in windows of `window` (a minute divided by the time scale).
fn connector(db: &Db, cipher: &Cipher, base: &str, window: Duration, batch: bool) -> QuickBooks {
    let endpoints =
        Endpoints::for_environment(Environment::Emulator, Some(base)).expect("endpoints");
    let mut settings = QboSettings::new("bench", SecretString::from("bench-secret"), endpoints);
    settings.pacing = Pacing {
        window,
        ..Pacing::default()
    };
    settings.throttle_wait = window;
    settings.throttle_budget = window * 2;
    settings.batch_size = if batch { 30 } else { 1 };
    QuickBooks::new(
        db.clone(),
        cipher.clone(),
        QboClient::new(settings).expect("client"),
    )
}

/// `worker_batch`: events the worker claims per pass.
async fn rig(
    orders_wanted: usize,
    batch: bool,
    limits: bool,
    scale: f64,
    worker_batch: i64,
) -> Rig {
    let dir = tempfile::tempdir().expect("dir");
    let mut cfg = SandboxConfig::new(
        dir.path().join("sandbox.db"),
        "bench",
        "bench-secret",
        "bench-verifier",
    );
    cfg.limits = Limits {
        enabled: limits,
        time_scale: scale,
        ..Limits::default()
    };
    let handle = sandbox::start(cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox");
    let http = reqwest::Client::new();
    let db = Db::connect(
        &format!("sqlite://{}", dir.path().join("app.db").display()),
        10,
    )
    .await
    .expect("db");
    db.migrate().await.expect("migrate");
    let tenant = tenants::create(&db, &format!("b{}", Uuid::new_v4().simple()), "Bench")
        .await
        .expect("tenant");
    let p = Principal::system(tenant.id);
    let customer = customers::create(
        &db,
        &p,
        CustomerInput {
            name: "Bench Buyer Ltd".into(),
            email: Some("ap@bench.example".into()),
            phone: None,
            billing: Default::default(),
            shipping: Default::default(),
        },
    )
    .await
    .expect("customer");
    let mut products = Vec::new();
    for (sku, price) in [("BENCH-A", 1999), ("BENCH-B", 450)] {
        let input = ProductInput {
            sku: sku.into(),
            name: format!("Bench item {sku}"),
            unit_price: price,
            currency: None,
        };
        products.push(
            customers::create_product(&db, &p, input)
                .await
                .expect("product")
                .id,
        );
    }
    let mut ids = Vec::with_capacity(orders_wanted);
    for _ in 0..orders_wanted {
        let input = NewOrder {
            customer_id: customer.id,
            shipping_amount: 500,
            currency: None,
            items: vec![
                NewOrderItem {
                    product_id: products[0],
                    quantity: 3,
                    unit_price: None,
                },
                NewOrderItem {
                    product_id: products[1],
                    quantity: 2,
                    unit_price: None,
                },
            ],
        };
        ids.push(orders::create(&db, &p, input).await.expect("order").id);
    }
    // Connect with a token from the sandbox (valid an hour; no refresh during the run).
    let minted: Value = http
        .post(format!("{}/_sandbox/realms/{REALM}/token", handle.base_url))
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("json");
    let token = minted["access_token"].as_str().expect("token").to_string();
    let cipher =
        Cipher::from_base64("bench", &SecretString::from(DEMO_MASTER_KEY)).expect("cipher");
    let tokens = TokenSet {
        access_token: SecretString::from(token.clone()),
        refresh_token: SecretString::from("unused-during-the-bench"),
        access_expires_at: time::now() + chrono::TimeDelta::hours(1),
        refresh_expires_at: None,
    };
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: REALM,
        company_name: "Bench",
        connected_by: "bench",
    };
    connections::connect_with_tokens(
        &db,
        tenant.id,
        &company,
        &seal(&cipher, &tokens).expect("seal"),
        time::now(),
    )
    .await
    .expect("connect");
    for id in &ids {
        orders::mark_paid(&db, &p, *id).await.expect("paid");
    }
    let window = Duration::from_secs_f64(60.0 / scale);
    let qb = Arc::new(connector(&db, &cipher, &handle.base_url, window, batch));
    let worker_cfg = WorkerConfig {
        batch_size: worker_batch,
        lease_ttl: chrono::TimeDelta::seconds(300),
        ..WorkerConfig::default()
    };
    let worker = OutboxWorker::new(
        db.clone(),
        Adapters::new().with(Provider::QuickBooks, qb),
        worker_cfg,
    );
    Rig {
        _dir: dir,
        handle,
        http,
        db,
        p,
        token,
        window,
        cipher,
        worker,
    }
}

impl Rig {
    /// Runs the worker until nothing is left to deliver.
    async fn drain(&self) {
        let pending = "SELECT count(*) FROM integration_outbox WHERE target_system = 'QuickBooks' AND status <> 'Completed' AND status <> 'Abandoned'";
        while count(&self.db, pending).await > 0 {
            self.worker.run_once().await.expect("pass");
        }
    }

    /// A call to the sandbox's API as the connected company.
    async fn api(&self, path_and_query: &str, body: Value) -> Value {
        self.http
            .post(format!(
                "{}/v3/company/{REALM}/{path_and_query}",
                self.handle.base_url
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("api")
            .json()
            .await
            .expect("json")
    }

    async fn read(&self, entity: &str, id: &str) -> Value {
        self.http
            .get(format!(
                "{}/v3/company/{REALM}/{entity}/{id}",
                self.handle.base_url
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("read")
            .json()
            .await
            .expect("json")
    }

    async fn query(&self, stmt: &str) -> Value {
        self.http
            .post(format!("{}/v3/company/{REALM}/query", self.handle.base_url))
            .bearer_auth(&self.token)
            .header("content-type", "application/text")
            .body(stmt.to_string())
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json")
    }

    async fn stop(self) {
        self.db.close().await;
        self.handle.stop().await;
    }
}

async fn bulk(b: Bulk) {
    let rig = rig(b.orders, b.batch, b.limits, b.scale, 1000).await;
    let base = rig.handle.base_url.clone();
    let before: Value = sandbox_stats(&rig.http, &base).await;
    let started = Instant::now();
    rig.drain().await;
    let elapsed = started.elapsed();
    let after: Value = sandbox_stats(&rig.http, &base).await;
    let delta = |k: &str| after[k].as_i64().unwrap_or(0) - before[k].as_i64().unwrap_or(0);
    let (requests, throttled, batches) =
        (delta("requests"), delta("throttled"), delta("batch_calls"));
    let q = rig.query("select count(*) from Invoice").await;
    let invoices = q["QueryResponse"]["totalCount"].as_i64().unwrap_or(-1);
    let failed = count(&rig.db, "SELECT count(*) FROM integration_outbox WHERE target_system = 'QuickBooks' AND (retry_count > 0 OR status <> 'Completed')").await;
    // The least time Intuit's sliding windows allow for this many calls: the first window's
    // allowance goes at once, every further allowance one window later.
    let per_window = Limits::default().per_minute as i64;
    let batch_per_window = Limits::default().batch_per_minute as i64;
    let windows = ((requests - 1).max(0) / per_window).max((batches - 1).max(0) / batch_per_window);
    let t_min = rig.window.as_secs_f64() * windows as f64;
    let efficiency = if b.limits && windows > 0 {
        format!("{:.1} %", 100.0 * t_min / elapsed.as_secs_f64())
    } else {
        "n/a (within one window's allowance)".into()
    };
    println!(
        "bulk [{}]: {} orders in {:.2} s ({:.0} invoices/s); limits {}; window {:.1} s; {} requests ({} batch calls), {} answered 429; \
         least time the limits allow {:.1} s → efficiency {}; invoices {} (duplicates {}); failed attempts {}",
        b.label, b.orders, elapsed.as_secs_f64(), b.orders as f64 / elapsed.as_secs_f64(),
        if b.limits { "on" } else { "off" }, rig.window.as_secs_f64(), requests, batches, throttled, t_min, efficiency,
        invoices, invoices - b.orders as i64, failed
    );
    rig.stop().await;
}

/// The reconciliation report over N paid orders (BENCH_RECON_ORDERS, default 10,000), their
/// invoices and payments delivered beforehand with the limits off and time scaled ×1,000 (the
/// client's own pacing would otherwise hold the seed to 40 batch calls a minute); then Intuit's
/// limits on at real time (500 requests and 40 batch calls a minute, 10 concurrent) for the
/// sandbox and for a connector pacing itself in real minutes, and a few drifts planted by hand:
/// the report is run twice and its calls, rows and time reported.
async fn reconciliation(orders_wanted: usize) {
    // The worker's default pass size: a pass of 1,000 paid orders (invoice and payment each)
    // outlasts the 45-second per-event deadline against a sandbox holding 10,000 invoices.
    let rig = rig(
        orders_wanted,
        true,
        false,
        1000.0,
        WorkerConfig::default().batch_size,
    )
    .await;
    let seeded = Instant::now();
    rig.drain().await;
    let seed_time = seeded.elapsed();
    // Drift by hand in QuickBooks, on ten paid invoices: the payment voided (2: balance
    // differs), then the invoice edited (2: total differs) or voided (2) or deleted (2: missing
    // there); and two invoices typed again with an existing number (duplicates).
    let found = rig
        .query("select * from Invoice orderby Id startposition 1 maxresults 10")
        .await;
    let picked = found["QueryResponse"]["Invoice"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(picked.len(), 10, "invoices to plant drift on");
    let ok = |answer: Value, what: &str| {
        assert!(answer.get("Fault").is_none(), "{what}: {answer}");
        answer
    };
    for (i, inv) in picked.iter().enumerate() {
        if i < 8 {
            let payment_id = inv["LinkedTxn"]
                .as_array()
                .and_then(|l| l.iter().find(|t| t["TxnType"] == "Payment"))
                .and_then(|t| t["TxnId"].as_str())
                .expect("paid")
                .to_string();
            let payment = rig.read("payment", &payment_id).await["Payment"].clone();
            ok(
                rig.api(
                    "payment?operation=update&include=void",
                    json!({ "Id": payment_id, "SyncToken": payment["SyncToken"], "sparse": true }),
                )
                .await,
                "void the payment",
            );
        }
        let inv = rig.read("invoice", inv["Id"].as_str().expect("id")).await["Invoice"].clone();
        let (id, token) = (inv["Id"].clone(), inv["SyncToken"].clone());
        match i {
            0 | 1 => {}
            2 | 3 => {
                let mut line = inv["Line"][0].clone();
                line["Amount"] = json!(1.0);
                line["SalesItemLineDetail"]["Qty"] = json!(1);
                line["SalesItemLineDetail"]["UnitPrice"] = json!(1.0);
                let body = json!({ "Id": id, "SyncToken": token, "sparse": true, "Line": [line] });
                ok(rig.api("invoice", body).await, "edit the invoice");
            }
            4 | 5 => {
                let body = json!({ "Id": id, "SyncToken": token });
                ok(
                    rig.api("invoice?operation=void", body).await,
                    "void the invoice",
                );
            }
            6 | 7 => {
                let body = json!({ "Id": id, "SyncToken": token });
                ok(
                    rig.api("invoice?operation=delete", body).await,
                    "delete the invoice",
                );
            }
            _ => {
                let lines: Vec<Value> = inv["Line"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|l| l["DetailType"] == "SalesItemLineDetail")
                    .map(|mut l| {
                        l.as_object_mut().map(|o| o.remove("Id"));
                        l
                    })
                    .collect();
                let body = json!({ "CustomerRef": inv["CustomerRef"], "DocNumber": inv["DocNumber"], "Line": lines });
                ok(rig.api("invoice", body).await, "type a duplicate");
            }
        }
    }
    let on = Limits::default();
    let res = rig
        .http
        .post(format!("{}/_sandbox/limits", rig.handle.base_url))
        .json(
            &json!({ "enabled": true, "per_minute": on.per_minute, "concurrent": on.concurrent,
            "batch_per_minute": on.batch_per_minute, "time_scale": 1.0 }),
        )
        .send()
        .await
        .expect("limits");
    assert!(res.status().is_success(), "limits on");
    let real_time = connector(
        &rig.db,
        &rig.cipher,
        &rig.handle.base_url,
        Duration::from_secs(60),
        true,
    );
    for run in 1..=2 {
        let before = sandbox_stats(&rig.http, &rig.handle.base_url).await;
        let started = Instant::now();
        let report = reconciliation::report(&rig.db, Some(&real_time), &rig.p, None, None)
            .await
            .expect("report");
        let elapsed = started.elapsed();
        let after = sandbox_stats(&rig.http, &rig.handle.base_url).await;
        let requests =
            after["requests"].as_i64().unwrap_or(0) - before["requests"].as_i64().unwrap_or(0);
        let throttled =
            after["throttled"].as_i64().unwrap_or(0) - before["throttled"].as_i64().unwrap_or(0);
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for r in &report.rows {
            match kinds.iter_mut().find(|(k, _)| k == r.kind.code()) {
                Some((_, n)) => *n += 1,
                None => kinds.push((r.kind.code().to_string(), 1)),
            }
        }
        assert_eq!(
            report.rows.len(),
            10,
            "the ten drifts planted are found: {kinds:?}"
        );
        println!(
            "reconciliation [run {run}]: {} orders compared with {} invoices in {:.2} s; {} calls reported, {} requests seen by the sandbox ({} answered 429); \
             rows {:?}; seeding (limits off) took {:.1} s",
            report.orders_checked, report.invoices_read, elapsed.as_secs_f64(), report.calls, requests, throttled,
            kinds, seed_time.as_secs_f64()
        );
    }
    rig.stop().await;
}

async fn sandbox_stats(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn body(batch: usize) -> (String, String) {
    let events: Vec<Value> = (0..batch)
        .map(|i| {
            json!({ "specversion": "1.0", "id": Uuid::new_v4().to_string(), "source": "intuit.bench", "type": "qbo.payment.created.v1",
                "datacontenttype": "application/json", "time": "2026-11-21T10:00:00.000Z", "intuitentityid": (1000 + i).to_string(),
                "intuitaccountid": REALM, "data": {} })
        })
        .collect();
    let body = Value::Array(events).to_string();
    let sig = sign(&SecretString::from("bench-verifier"), body.as_bytes());
    (body, sig)
}

async fn webhooks(label: &str, url: &str) {
    let db = Db::connect(url, 5).await.expect("db");
    db.migrate().await.expect("migrate");
    let tenant = tenants::create(
        &db,
        &format!("w{}", Uuid::new_v4().simple()),
        "Webhook bench",
    )
    .await
    .expect("tenant");
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: REALM,
        company_name: "Bench",
        connected_by: "bench",
    };
    connections::upsert_connected(&db, tenant.id, &company, time::now())
        .await
        .expect("connect");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_erp-bridge"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("ERP_BRIDGE_MASTER_KEY", DEMO_MASTER_KEY)
        .env("QBO_WEBHOOK_VERIFIER_TOKEN", "bench-verifier")
        .env("WEBHOOK_RATE_LIMIT", "1000000")
        .env("OUTBOX_DISABLED", "true")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("server");
    let pid = server.id().expect("pid");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kb) = common::rss_kb(pid) {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let batch: usize = env("BENCH_WEBHOOK_BATCH", 20);
    let total: usize = env("BENCH_WEBHOOK_EVENTS", 100_000);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let hook = format!("{base}/api/integrations/quickbooks/webhook");
    let post = |http: reqwest::Client, hook: String, (body, sig): (String, String)| async move {
        let t = Instant::now();
        let res = http
            .post(&hook)
            .header(SIGNATURE_HEADER, sig)
            .header("content-type", "application/cloudevents+json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200);
        t.elapsed().as_secs_f64() * 1000.0
    };
    // Saturation: 8 senders, bodies signed beforehand.
    let bodies: Vec<(String, String)> = (0..total / batch).map(|_| body(batch)).collect();
    let per = bodies.len() / 8;
    let mut chunks: Vec<Vec<(String, String)>> = Vec::new();
    let mut it = bodies.into_iter();
    for _ in 0..8 {
        chunks.push(it.by_ref().take(per).collect());
    }
    let sent = per * 8 * batch;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let (http, hook) = (http.clone(), hook.clone());
        tasks.push(tokio::spawn(async move {
            for b in chunk {
                post(http.clone(), hook.clone(), b).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let elapsed = started.elapsed();
    // Paced: 5,000 events/s for 10 s, open loop (latency is not hidden by waiting senders).
    let rate_posts = 5_000.0 / batch as f64;
    let paced: Vec<(String, String)> = (0..(rate_posts * 10.0) as usize)
        .map(|_| body(batch))
        .collect();
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate_posts));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut lat = Vec::new();
    let mut handles = Vec::new();
    for b in paced {
        interval.tick().await;
        handles.push(tokio::spawn(post(http.clone(), hook.clone(), b)));
    }
    for h in handles {
        lat.push(h.await.expect("post"));
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let stored = count(&db, "SELECT count(*) FROM integration_inbox").await;
    println!(
        "webhooks [{label}]: {sent} events in {:.2} s = {:.0} events/s ({} events per POST, 8 senders); \
         paced 5,000 events/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server RSS peak {:.1} MB; inbox rows {stored}",
        elapsed.as_secs_f64(), sent as f64 / elapsed.as_secs_f64(), batch,
        percentile(&lat, 0.5), percentile(&lat, 0.99), lat.last().copied().unwrap_or(f64::NAN),
        peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
    );
    let _ = server.kill().await;
    db.close().await;
}

#[tokio::main]
async fn main() {
    let orders: usize = env("BENCH_QBO_ORDERS", 1000);
    if std::env::var("BENCH_SKIP_RECON").is_err() {
        reconciliation(env("BENCH_RECON_ORDERS", 10_000)).await;
    }
    let scale: f64 = env("BENCH_TIME_SCALE", 10.0);
    if std::env::var("BENCH_SKIP_BULK").is_err() {
        bulk(Bulk {
            label: "one order per call, limits on",
            orders,
            batch: false,
            limits: true,
            scale,
        })
        .await;
        bulk(Bulk {
            label: "batch endpoint, limits on",
            orders,
            batch: true,
            limits: true,
            scale,
        })
        .await;
        bulk(Bulk {
            label: "batch endpoint, limits off",
            orders: 100,
            batch: true,
            limits: false,
            scale,
        })
        .await;
    }
    let dir = tempfile::tempdir().expect("dir");
    webhooks(
        "sqlite",
        &format!("sqlite://{}", dir.path().join("hooks.db").display()),
    )
    .await;
    common::with_postgres(
        "webhooks",
        |url| async move { webhooks("postgres", &url).await },
    )
    .await;
}
