//! NetSuite → erp-bridge over real HTTP against the sandbox: payments an accountant records in
//! NetSuite on invoices billed from our sales orders reach our order exactly once, and the
//! SuiteQL watermark pages past NetSuite's 1,000-row page and resumes after a restart without
//! missing or repeating a row.

use crate::both_backends;
use crate::netsuite_sync::{connected, Setup, ACCOUNT};
use erp_bridge::server::erp::inbound::Inbound;
use erp_bridge::server::erp::netsuite::adapter::order_external_id;
use erp_bridge::server::erp::netsuite::inbound::NetSuiteInbound;
use erp_bridge::server::erp::netsuite::watermark::{Limits, CUSTOMERS};
use erp_bridge::server::store::checkpoints;
use erp_bridge::server::store::inbox;
use erp_bridge::server::store::mappings::{self, Scope};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

both_backends!(
    payments_recorded_in_netsuite_reach_our_order_once,
    the_watermark_pages_past_the_page_limit_and_resumes_after_a_restart
);

impl Setup {
    fn inbound(&self) -> NetSuiteInbound {
        NetSuiteInbound::new(
            self.app.state.netsuite.clone().expect("NetSuite"),
            self.app.state.db.clone(),
        )
    }

    /// A sandbox control call (what the sandbox page's buttons post); the new record's id.
    async fn control(&self, path: &str, form: &[(&str, &str)]) -> String {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", self.sandbox.base_url))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("sandbox");
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, 201, "{path}: {body}");
        body["id"].as_str().expect("id").to_string()
    }

    async fn our_order(&self, id: &str) -> Value {
        let (status, order) = self
            .app
            .get_json(&self.admin, &format!("/api/v1/orders/{id}"))
            .await;
        assert_eq!(status, 200, "{order}");
        order
    }

    /// Pulls and applies until the inbox has nothing due; how many new events the pull found.
    async fn pull_and_apply(&self, inbound: &NetSuiteInbound) -> usize {
        let new = inbound.pull(self.tenant).await.expect("pull");
        while inbound.process_inbox_once(100).await.expect("inbox") > 0 {}
        new
    }
}

async fn payments_recorded_in_netsuite_reach_our_order_once(backend: Backend) {
    let s = connected(backend).await;
    // An unpaid order sent by a manual sync, then billed in NetSuite.
    let order = s.order(2).await;
    let order_id = order["id"].as_str().expect("id").to_string();
    let total = order["total"].as_i64().expect("total");
    let (status, body) = s
        .app
        .send_json(
            &s.admin,
            Method::POST,
            "/api/integrations/sync/netsuite",
            json!({ "entity_type": "Order", "entity_ids": [order_id] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.drain().await;
    let uuid: Uuid = order_id.parse().expect("uuid");
    let so = s
        .query(&format!(
            "SELECT id FROM transaction WHERE externalid = '{}'",
            order_external_id(uuid)
        ))
        .await;
    let so_id = so.items[0]["id"].clone();
    let invoice = s
        .control(
            &format!("/_sandbox/accounts/{ACCOUNT}/sales-orders/{so_id}/bill"),
            &[],
        )
        .await;
    // The accountant records part of the payment in NetSuite.
    let part = total / 4;
    let part_text = format!("{:.2}", part as f64 / 100.0);
    s.control(
        &format!("/_sandbox/accounts/{ACCOUNT}/invoices/{invoice}/payments"),
        &[("amount", &part_text)],
    )
    .await;
    // An Admin asks for NetSuite's changes now (the card's button); the inbound side applies them.
    let (status, pulled) = s
        .app
        .send_json(
            &s.admin,
            Method::POST,
            "/api/integrations/netsuite/pull",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{pulled}");
    assert!(
        pulled["new_changes"].as_u64().is_some_and(|n| n >= 2),
        "the order's change and the payment: {pulled}"
    );
    let inbound = s.inbound();
    while inbound.process_inbox_once(100).await.expect("inbox") > 0 {}
    let ours = s.our_order(&order_id).await;
    assert_eq!(ours["amount_paid"], json!(part), "{ours}");
    assert_eq!(ours["payment_status"], "PartiallyPaid", "{ours}");
    // The mapping remembers the sales order's status.
    let scope = Scope {
        tenant_id: s.tenant,
        provider: "NetSuite",
        external_company_id: ACCOUNT,
        entity_type: "Order",
    };
    let mapping = mappings::by_ours(&s.app.state.db, scope, &order_id)
        .await
        .expect("mapping")
        .expect("mapped");
    assert!(
        mapping
            .metadata
            .as_deref()
            .is_some_and(|m| m.contains("Billed")),
        "{mapping:?}"
    );
    // Pulled again (the overlap re-reads the same rows): nothing new, nothing recorded twice.
    assert_eq!(s.pull_and_apply(&inbound).await, 0);
    assert_eq!(s.our_order(&order_id).await["amount_paid"], json!(part));
    // The rest, from another process after a restart.
    let rest = format!("{:.2}", (total - part) as f64 / 100.0);
    s.control(
        &format!("/_sandbox/accounts/{ACCOUNT}/invoices/{invoice}/payments"),
        &[("amount", &rest)],
    )
    .await;
    let restarted = s.inbound();
    assert_eq!(
        s.pull_and_apply(&restarted).await,
        1,
        "only the new payment"
    );
    let ours = s.our_order(&order_id).await;
    assert_eq!(ours["amount_paid"], json!(total), "{ours}");
    assert_eq!(ours["payment_status"], "Paid", "{ours}");
    // Nothing went back to NetSuite: still the two payments the accountant recorded, and the
    // payment events our order raised finished without a call.
    s.drain().await;
    let payments = s
        .query("SELECT id FROM transaction WHERE type = 'CustPymt'")
        .await;
    assert_eq!(payments.items.len(), 2);
    let sent: Vec<_> = s
        .netsuite_rows()
        .await
        .into_iter()
        .filter(|(t, status, _)| t == "PaymentAdded" && status != "Completed")
        .collect();
    assert!(sent.is_empty(), "{sent:?}");
    // Every event the pulls found was applied or said why not; none failed or waits.
    let counts = inbox::count_by_status(&s.app.state.db, s.tenant)
        .await
        .expect("counts");
    assert!(
        counts
            .iter()
            .all(|(status, _)| status == "Completed" || status == "Skipped"),
        "{counts:?}"
    );
}

async fn the_watermark_pages_past_the_page_limit_and_resumes_after_a_restart(backend: Backend) {
    let s = connected(backend).await;
    let ns = s.app.state.netsuite.clone().expect("NetSuite");
    let acct = s.account();
    // 1,050 customers, most of them changed in the same second: the (time, id) key decides.
    const N: usize = 1050;
    for i in 0..N {
        ns.client
            .create(
                &acct,
                "customer",
                &json!({ "companyName": format!("Watermark {i:04}") }),
            )
            .await
            .expect("create");
    }
    // Pages of 100, three per pull: each pull stops part-way, the next (a new process) goes on.
    let limits = Limits {
        page: 100,
        pages: 3,
    };
    let mut pulls = 0;
    loop {
        pulls += 1;
        let inbound = s.inbound();
        let new = inbound.pull_with(s.tenant, limits).await.expect("pull");
        if new == 0 {
            break;
        }
        assert!(pulls < 20, "the pull does not finish");
    }
    assert!(pulls >= 4, "{N} rows need several pulls of 300");
    let stored = checkpoints::get(&s.app.state.db, s.tenant, "NetSuite", CUSTOMERS.name)
        .await
        .expect("checkpoint")
        .and_then(|c| c.cursor)
        .expect("cursor");
    let ids = customer_events(&s).await;
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(ids.len(), N, "one event per customer, none repeated");
    assert_eq!(distinct.len(), N, "none missed");
    // The last row is where the cursor rests.
    let newest = s
        .query("SELECT id FROM customer WHERE companyname = 'Watermark 1049'")
        .await;
    assert!(
        stored.ends_with(&format!("|{}", newest.items[0]["id"])),
        "{stored}"
    );
    // With NetSuite's own page size one pull reads what changed since, once.
    for i in 0..3 {
        ns.client
            .create(
                &acct,
                "customer",
                &json!({ "companyName": format!("Later {i}") }),
            )
            .await
            .expect("create");
    }
    assert_eq!(s.inbound().pull(s.tenant).await.expect("pull"), 3);
    assert_eq!(customer_events(&s).await.len(), N + 3);
}

/// The customer ids of the inbox's customer events.
async fn customer_events(s: &Setup) -> Vec<String> {
    inbox::list(&s.app.state.db, s.tenant, 10_000)
        .await
        .expect("inbox")
        .into_iter()
        .filter(|r| r.entity_type.as_deref() == Some("customer"))
        .filter_map(|r| r.entity_id)
        .collect()
}

use crate::helpers::Backend;
