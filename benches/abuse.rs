//! Abuse benchmarks of the anonymous doors. `cargo bench --features ssr --bench abuse` (set
//! TEST_DATABASE_URL or BENCH_DATABASE_URL to run them on PostgreSQL too). The `erp-bridge`
//! binary runs as its own process on loopback; its resident memory is sampled from /proc.
//! Figures go to BENCHMARKS.md with the machine and this command.
//!
//! 1. Sign-in: 300 concurrent wrong guesses at one account from one source (per-source limit
//!    raised so only the account lockout stands), then the right password from that source; then
//!    a flood of 300 concurrent guesses at 300 random emails from 300 sources (through a trusted
//!    proxy's X-Forwarded-For), which passes every throttle and meets the bounded argon2 pool.
//!    Reports the answers, how many passwords were checked, and the server's peak memory.
//! 2. Webhooks: BENCH_JUNK_POSTS (default 100,000) badly signed POSTs at full speed from 32
//!    connections while one sender delivers BENCH_SIGNED_POSTS (default 500) signed POSTs of one
//!    new event each; then checks every signed event is in the inbox once, and how many rows the
//!    junk left behind.

mod common;

use erp_bridge::server::crypto::DEMO_MASTER_KEY;
use erp_bridge::server::erp::quickbooks::webhook::{sign, SIGNATURE_HEADER};
use erp_bridge::server::store::{connections, Db};
use erp_bridge::server::time;
use secrecy::SecretString;
use serde_json::json;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const REALM: &str = "9341453050298471";
const VERIFIER: &str = "bench-verifier";

use common::{count, env};

/// The server under test, with a memory sampler.
struct Server {
    _child: tokio::process::Child, // killed on drop
    base: String,
    peak_kb: Arc<AtomicU64>,
}

impl Server {
    async fn start(url: &str, extra: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_erp-bridge"));
        cmd.arg("serve")
            .env("DATABASE_URL", url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("ERP_BRIDGE_MASTER_KEY", DEMO_MASTER_KEY)
            .env("QBO_WEBHOOK_VERIFIER_TOKEN", VERIFIER)
            .env("OUTBOX_DISABLED", "true")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("server");
        let pid = child.id().expect("pid");
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
        let peak_kb = Arc::new(AtomicU64::new(0));
        let peak = peak_kb.clone();
        tokio::spawn(async move {
            while let Some(kb) = common::rss_kb(pid) {
                peak.fetch_max(kb, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Server {
            _child: child,
            base,
            peak_kb,
        }
    }

    fn peak_mb(&self) -> f64 {
        self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

async fn prepared(url: &str) -> Db {
    let db = Db::connect(url, 5).await.expect("db");
    db.migrate().await.expect("migrate");
    erp_bridge::server::demo::seed(&db).await.expect("seed");
    db
}

async fn guesses(
    http: &reqwest::Client,
    base: &str,
    n: usize,
    who: impl Fn(usize) -> (String, String),
) -> (std::collections::BTreeMap<u16, usize>, Duration) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (email, source) = who(i);
            let (http, base) = (http.clone(), base.to_string());
            tokio::spawn(async move {
                http.post(format!("{base}/auth/login"))
                    .header("accept", "application/json")
                    .header("x-forwarded-for", source)
                    .form(&[("email", email.as_str()), ("password", "wrong-guess-123")])
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::new();
    for t in tasks {
        *answers.entry(t.await.expect("task")).or_insert(0) += 1;
    }
    (answers, started.elapsed())
}

async fn sign_in(label: &str, url: &str) {
    let db = prepared(url).await;
    let server = Server::start(
        url,
        &[
            ("TRUSTED_PROXIES", "127.0.0.1"),
            ("LOGIN_SOURCE_LIMIT_PER_MINUTE", "100000"),
        ],
    )
    .await;
    let idle_mb = {
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.peak_mb()
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(300)
        .build()
        .expect("client");
    let (one, took) = guesses(&http, &server.base, 300, |_| {
        ("admin@demo.example".into(), "198.51.100.7".into())
    })
    .await;
    let right = http
        .post(format!("{}/auth/login", server.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "198.51.100.7")
        .form(&[
            ("email", "admin@demo.example"),
            ("password", "erp-bridge-demo"),
        ])
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    let after_one_mb = server.peak_mb();
    let (flood, flood_took) = guesses(&http, &server.base, 300, |i| {
        (
            format!("nobody-{i}@{}.example", Uuid::new_v4().simple()),
            format!("203.0.{}.{}", i / 250, i % 250 + 1),
        )
    })
    .await;
    println!(
        "sign-in [{label}]: 300 concurrent guesses at one account from one source: answers {one:?} in {:.2} s; \
         then the right password: {right}; server RSS idle {idle_mb:.1} MB, peak {after_one_mb:.1} MB",
        took.as_secs_f64()
    );
    println!(
        "sign-in [{label}]: 300 concurrent guesses at 300 random emails from 300 sources: answers {flood:?} in {:.2} s; \
         server RSS peak {:.1} MB (argon2 pool: {} slots, 64 waiting)",
        flood_took.as_secs_f64(),
        server.peak_mb(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2)
    );
    drop(server);
    db.close().await;
}

fn cloud_event(id: &str) -> String {
    json!([{ "specversion": "1.0", "id": id, "source": "intuit.bench", "type": "qbo.payment.created.v1",
        "datacontenttype": "application/json", "time": "2026-11-27T10:00:00.000Z", "intuitentityid": "77",
        "intuitaccountid": REALM, "data": {} }])
    .to_string()
}

async fn webhooks(label: &str, url: &str) {
    let db = prepared(url).await;
    let tenant = erp_bridge::server::store::tenants::find_by_slug(&db, "demo")
        .await
        .expect("tenant")
        .expect("demo tenant")
        .id;
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: REALM,
        company_name: "Bench",
        connected_by: "bench",
    };
    connections::upsert_connected(&db, tenant, &company, time::now())
        .await
        .expect("connect");
    let server = Server::start(url, &[]).await;
    let hook = format!("{}/api/integrations/quickbooks/webhook", server.base);
    let junk_total: usize = env("BENCH_JUNK_POSTS", 100_000);
    let signed_total: usize = env("BENCH_SIGNED_POSTS", 500);
    let rows_before = count(&db, "SELECT count(*) FROM integration_webhook_receipts").await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let junk_body = cloud_event("junk");
    let junk_sig = sign(
        &SecretString::from("not-the-verifier"),
        junk_body.as_bytes(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let junk: Vec<_> = (0..32)
        .map(|_| {
            let (http, hook, body, sig) = (
                http.clone(),
                hook.clone(),
                junk_body.clone(),
                junk_sig.clone(),
            );
            let (next, refused) = (next.clone(), refused.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < junk_total {
                    let res = http
                        .post(&hook)
                        .header(SIGNATURE_HEADER, &sig)
                        .header("content-type", "application/cloudevents+json")
                        .body(body.clone())
                        .send()
                        .await;
                    if res.is_ok_and(|r| r.status() == 401) {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let signed = {
        let (http, hook) = (http.clone(), hook.clone());
        tokio::spawn(async move {
            let mut accepted = 0;
            let mut lat = Vec::new();
            for _ in 0..signed_total {
                let body = cloud_event(&Uuid::new_v4().to_string());
                let sig = sign(&SecretString::from(VERIFIER), body.as_bytes());
                let t = Instant::now();
                let res = http
                    .post(&hook)
                    .header(SIGNATURE_HEADER, sig)
                    .header("content-type", "application/cloudevents+json")
                    .body(body)
                    .send()
                    .await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if res.is_ok_and(|r| r.status() == 200) {
                    accepted += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            (accepted, lat)
        })
    };
    for j in junk {
        j.await.expect("junk sender");
    }
    let junk_elapsed = started.elapsed();
    let (accepted, lat) = signed.await.expect("signed sender");
    // The refused counts are written every two seconds.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let inbox = count(&db, "SELECT count(*) FROM integration_inbox").await;
    let receipts =
        count(&db, "SELECT count(*) FROM integration_webhook_receipts").await - rows_before;
    let refusal_rows = count(&db, "SELECT count(*) FROM integration_webhook_refusals").await;
    let counted = count(
        &db,
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM integration_webhook_refusals",
    )
    .await;
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "webhooks [{label}]: {junk_total} junk POSTs in {:.2} s = {:.0}/s from 32 connections, {} answered 401, {counted} counted in {refusal_rows} rows; \
         meanwhile {accepted} of {signed_total} signed POSTs accepted (latency p50 {:.2} ms, p99 {:.2} ms), inbox rows {inbox}, receipt rows {receipts}; \
         server RSS peak {:.1} MB",
        junk_elapsed.as_secs_f64(),
        junk_total as f64 / junk_elapsed.as_secs_f64(),
        refused.load(Ordering::Relaxed),
        p(0.5),
        p(0.99),
        server.peak_mb()
    );
    drop(server);
    db.close().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "sqlite" {
        let url = format!("sqlite://{}", dir.path().join("signin.db").display());
        sign_in("sqlite", &url).await;
        let url = format!("sqlite://{}", dir.path().join("hooks.db").display());
        webhooks("sqlite", &url).await;
    }
    if only.is_empty() || only == "postgres" {
        common::with_postgres(
            "sign-in",
            |url| async move { sign_in("postgres", &url).await },
        )
        .await;
        common::with_postgres(
            "webhooks",
            |url| async move { webhooks("postgres", &url).await },
        )
        .await;
    }
}
