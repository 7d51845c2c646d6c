//! NetSuite bulk sync. `cargo bench --features ssr --bench netsuite`. Figures go to
//! BENCHMARKS.md with the machine and this command.
//!
//! N paid orders (BENCH_NS_ORDERS, default 1,000; two lines and shipping each, one customer) are
//! delivered by the outbox worker through the NetSuite adapter to the NetSuite sandbox, which
//! adds a fixed latency L to every request (BENCH_NS_LATENCY_MS, default 50) and refuses what
//! exceeds its concurrency limit C per account (BENCH_NS_LIMIT, default 5) with NetSuite's 429.
//! The client keeps C' requests in flight (BENCH_NS_CLIENT, default 4 — one under the limit).
//! Goal (issue 11): at least 95 % of C'/L requests per second, no duplicate sales order.
//! Reported: C, C', L, time, requests, the rate against C'/L, 429s, sales orders, duplicates,
//! failed attempts.

mod common;

use erp_bridge::domain::commerce::{CustomerInput, NewOrder, NewOrderItem, ProductInput};
use erp_bridge::domain::connection::Provider;
use erp_bridge::server::auth::Principal;
use erp_bridge::server::crypto::{Cipher, DEMO_MASTER_KEY};
use erp_bridge::server::erp::netsuite::adapter::NetSuiteAdapter;
use erp_bridge::server::erp::netsuite::client::{NetSuiteClient, Settings};
use erp_bridge::server::erp::netsuite::connector::{NetSuite, Stored, StoredAuth};
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::sandbox::netsuite::{self as sandbox, NetSuiteSandboxConfig, TbaSeed};
use erp_bridge::server::service::{customers, orders, tenants};
use erp_bridge::server::store::{connections, tokens, Db};
use erp_bridge::server::time;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use common::{count, env};

const ACCOUNT: &str = "1234567_SB1";

#[tokio::main]
async fn main() {
    let orders_wanted: usize = env("BENCH_NS_ORDERS", 1000);
    let latency_ms: u64 = env("BENCH_NS_LATENCY_MS", 50);
    let limit: u32 = env("BENCH_NS_LIMIT", 5);
    let client_slots: u32 = env("BENCH_NS_CLIENT", 4);

    let dir = tempfile::tempdir().expect("dir");
    let mut cfg = NetSuiteSandboxConfig::new(dir.path().join("netsuite.db"));
    cfg.concurrency = limit;
    cfg.tba_tokens.push(TbaSeed {
        account: ACCOUNT.into(),
        consumer_key: "ck".into(),
        consumer_secret: SecretString::from("cs"),
        token_id: "tid".into(),
        token_secret: SecretString::from("ts"),
    });
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
    let cipher =
        Cipher::from_base64("bench", &SecretString::from(DEMO_MASTER_KEY)).expect("cipher");
    let ns = NetSuite {
        client: NetSuiteClient::new(Settings {
            concurrency: client_slots,
            ..Settings::default()
        })
        .expect("client"),
        base_url: Some(handle.base_url.clone()),
        cipher: cipher.clone(),
    };
    // Connected before the orders are written, so their events are queued for NetSuite.
    let stored = Stored {
        account_id: ACCOUNT.into(),
        auth: StoredAuth::Tba {
            consumer_key: "ck".into(),
            consumer_secret: "cs".into(),
            token_id: "tid".into(),
            token_secret: "ts".into(),
        },
        subsidiary_id: None,
        home_currency: Some("USD".into()),
    };
    let company = connections::ConnectedCompany {
        provider: "NetSuite",
        external_company_id: ACCOUNT,
        company_name: "Bench",
        connected_by: "bench",
    };
    tokens::connect_with_credentials(
        &db,
        tenant.id,
        &company,
        &ns.seal(&stored).expect("seal"),
        cipher.key_id(),
        time::now(),
    )
    .await
    .expect("connect");

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
    // The sandbox's items (the demo SKUs).
    for (sku, price) in [("WID-100", 1999), ("GAD-200", 450)] {
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
        let order = orders::create(&db, &p, input).await.expect("order");
        orders::mark_paid(&db, &p, order.id).await.expect("paid");
    }

    let worker = OutboxWorker::new(
        db.clone(),
        Adapters::new().with(
            Provider::NetSuite,
            Arc::new(NetSuiteAdapter::new(ns.clone(), db.clone())),
        ),
        WorkerConfig {
            batch_size: 500,
            lease_ttl: chrono::TimeDelta::seconds(300),
            ..WorkerConfig::default()
        },
    );
    let faults = json!({ "latency_ms": latency_ms });
    let set = http
        .post(format!("{}/_sandbox/faults", handle.base_url))
        .json(&faults)
        .send()
        .await
        .expect("faults");
    assert!(set.status().is_success());
    let before = stats(&http, &handle.base_url).await;
    let pending = "SELECT count(*) FROM integration_outbox WHERE target_system = 'NetSuite' \
        AND status NOT IN ('Completed', 'Abandoned', 'Superseded', 'Dismissed')";
    let started = Instant::now();
    while count(&db, pending).await > 0 {
        worker.run_once().await.expect("pass");
    }
    let elapsed = started.elapsed();
    let after = stats(&http, &handle.base_url).await;
    let requests = after.0 - before.0;
    let throttled = after.1 - before.1;

    // What the account holds: every sales order, by external id (SuiteQL pages of 1,000).
    let acct = ns.account(&ACCOUNT.parse().expect("id"), &stored.auth);
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = ns
            .client
            .suiteql(
                &acct,
                "SELECT id, externalid FROM transaction WHERE type = 'SalesOrd' ORDER BY id",
                &[],
                1000,
                offset,
            )
            .await
            .expect("query");
        let n = page.items.len();
        rows.extend(page.items);
        if !page.has_more || n == 0 {
            break;
        }
        offset += 1000;
    }
    let distinct: HashSet<_> = rows.iter().filter_map(|r| r.get("externalid")).collect();
    let failed_attempts = count(
        &db,
        "SELECT COALESCE(SUM(retry_count), 0) FROM integration_outbox WHERE target_system = 'NetSuite'",
    )
    .await;

    let secs = elapsed.as_secs_f64();
    let rate = requests as f64 / secs;
    let ceiling = f64::from(client_slots) / (latency_ms as f64 / 1000.0);
    println!(
        "netsuite bulk: C={limit} C'={client_slots} L={latency_ms}ms orders={orders_wanted} \
         time={secs:.1}s requests={requests} rate={rate:.1}/s ceiling C'/L={ceiling:.1}/s \
         ({:.1} %) 429s={throttled} sales_orders={} duplicates={} failed_attempts={failed_attempts}",
        100.0 * rate / ceiling,
        rows.len(),
        rows.len() - distinct.len(),
    );
    handle.stop().await;
}

/// The sandbox's (requests, 429s) so far.
async fn stats(http: &reqwest::Client, base: &str) -> (u64, u64) {
    let s: Value = http
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    (
        s["requests"].as_u64().unwrap_or(0),
        s["throttled"].as_u64().unwrap_or(0),
    )
}
