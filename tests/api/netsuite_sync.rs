//! Customers and paid orders reaching NetSuite through the outbox and the NetSuite adapter, the
//! sandbox over real HTTP: one customer and one sales order per record however often they are
//! delivered, lines replaced and never appended, and what NetSuite cannot take refused before
//! any call in plain words.

use crate::both_backends;
use crate::helpers::{demo_email, spawn_app_with, Backend, TestApp};
use crate::outbox::{demo_tenant, rows};
use erp_bridge::domain::connection::Provider;
use erp_bridge::domain::Role;
use erp_bridge::server::erp::netsuite::adapter::{
    customer_external_id, order_external_id, NetSuiteAdapter,
};
use erp_bridge::server::erp::netsuite::client::{Account, Page};
use erp_bridge::server::erp::Adapters;
use erp_bridge::server::outbox::worker::{OutboxWorker, WorkerConfig};
use erp_bridge::server::sandbox::SandboxHandle;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

both_backends!(
    paid_orders_become_one_sales_order_each_however_often_delivered,
    what_netsuite_cannot_take_is_refused_before_any_call,
    an_existing_netsuite_customer_is_adopted_and_a_claimed_one_left_alone
);

pub const ACCOUNT: &str = "1234567_SB1";

pub struct Setup {
    pub app: TestApp,
    pub sandbox: SandboxHandle,
    pub admin: reqwest::Client,
    pub tenant: Uuid,
    _dir: tempfile::TempDir,
}

pub async fn connected(backend: Backend) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = crate::netsuite_sandbox::tba_sandbox(dir.path(), "ts").await;
    let url = sandbox.base_url.clone();
    let app = spawn_app_with(backend, move |s| s.netsuite_base_url = Some(url)).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    let creds = json!({ "method": "tba", "consumer_key": "ck", "consumer_secret": "cs", "token_id": "tid", "token_secret": "ts" });
    let (status, body) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/integrations/netsuite/connect",
            json!({ "account_id": ACCOUNT, "credentials": creds }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tenant = demo_tenant(&app.state.db).await;
    Setup {
        app,
        sandbox,
        admin,
        tenant,
        _dir: dir,
    }
}

impl Setup {
    pub async fn drain(&self) {
        let ns = self.app.state.netsuite.clone().expect("NetSuite");
        let adapters = Adapters::new().with(
            Provider::NetSuite,
            Arc::new(NetSuiteAdapter::new(ns, self.app.state.db.clone())),
        );
        let cfg = WorkerConfig {
            backoff_unit: Duration::from_secs(60),
            ..WorkerConfig::default()
        };
        for _ in 0..10 {
            OutboxWorker::new(self.app.state.db.clone(), adapters.clone(), cfg.clone())
                .run_once()
                .await
                .expect("pass");
        }
    }

    /// The account as the tests' own client calls it (the same TBA token as the connection).
    pub fn account(&self) -> Account {
        let ns = self.app.state.netsuite.clone().expect("NetSuite");
        let id = ACCOUNT.parse().expect("id");
        ns.account(
            &id,
            &erp_bridge::server::erp::netsuite::connector::StoredAuth::Tba {
                consumer_key: "ck".into(),
                consumer_secret: "cs".into(),
                token_id: "tid".into(),
                token_secret: "ts".into(),
            },
        )
    }

    /// A SuiteQL page read straight from the sandbox (the test's own TBA call through our client).
    pub async fn query(&self, q: &str) -> Page {
        let ns = self.app.state.netsuite.clone().expect("NetSuite");
        ns.client
            .suiteql(&self.account(), q, &[], 1000, 0)
            .await
            .expect("query")
    }

    /// A demo customer's order of two demo products (their SKUs are NetSuite items).
    pub async fn order(&self, quantity: i64) -> Value {
        let (_, products) = self.app.get_json(&self.admin, "/api/v1/products").await;
        let (_, customers) = self.app.get_json(&self.admin, "/api/v1/customers").await;
        let p = products["items"].as_array().expect("products");
        let body = json!({ "customer_id": customers["items"][0]["id"], "shipping_amount": 500,
            "items": [ { "product_id": p[0]["id"], "quantity": quantity }, { "product_id": p[1]["id"], "quantity": 1 } ] });
        let (status, order) = self
            .app
            .send_json(&self.admin, Method::POST, "/api/v1/orders", body)
            .await;
        assert_eq!(status, 201, "{order}");
        order
    }

    pub async fn pay(&self, order: &Value) {
        let id = order["id"].as_str().expect("id");
        let (status, body) = self
            .app
            .send_json(
                &self.admin,
                Method::POST,
                &format!("/api/v1/orders/{id}/mark-paid"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn netsuite_rows(&self) -> Vec<(String, String, Option<String>)> {
        rows(&self.app.state.db, self.tenant)
            .await
            .into_iter()
            .filter(|r| r.target_system.as_deref() == Some("NetSuite"))
            .map(|r| (r.event_type, r.status, r.last_error))
            .collect()
    }
}

async fn paid_orders_become_one_sales_order_each_however_often_delivered(backend: Backend) {
    let s = connected(backend).await;
    let order = s.order(2).await;
    s.pay(&order).await;
    s.drain().await;
    let left: Vec<_> = s
        .netsuite_rows()
        .await
        .into_iter()
        .filter(|(_, status, _)| !matches!(status.as_str(), "Completed" | "Superseded"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let order_id: Uuid = order["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("uuid");
    let customer_id: Uuid = order["customer_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("uuid");
    let so = s
        .query(&format!(
            "SELECT id, entity, foreigntotal FROM transaction WHERE externalid = '{}'",
            order_external_id(order_id)
        ))
        .await;
    assert_eq!(so.items.len(), 1, "one sales order");
    let total = order["total"].as_i64().expect("total") as f64 / 100.0;
    assert_eq!(
        so.items[0]["foreigntotal"].parse::<f64>().ok(),
        Some(total),
        "{:?}",
        so.items[0]
    );
    let customer = s
        .query(&format!(
            "SELECT id, companyname FROM customer WHERE externalid = '{}'",
            customer_external_id(customer_id)
        ))
        .await;
    assert_eq!(customer.items.len(), 1);
    assert_eq!(so.items[0]["entity"], customer.items[0]["id"]);
    // Sent again (a manual sync of the order): the same sales order, its lines not doubled.
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
    let lines = s
        .query(&format!(
            "SELECT transaction, quantity FROM transactionline WHERE transaction = {}",
            so.items[0]["id"]
        ))
        .await;
    assert_eq!(
        lines.items.len(),
        2,
        "lines replaced, never appended: {:?}",
        lines.items
    );
    let all = s.query("SELECT id FROM transaction").await;
    assert_eq!(all.items.len(), 1, "still one sales order");
    // The mapping names the sales order.
    let (status, maps) = s
        .app
        .get_json(&s.admin, "/api/integrations/mappings/netsuite/Order")
        .await;
    assert_eq!(status, 200, "{maps}");
    assert_eq!(maps["items"][0]["external_id"], so.items[0]["id"]);
}

async fn what_netsuite_cannot_take_is_refused_before_any_call(backend: Backend) {
    let s = connected(backend).await;
    // An order in a currency the account does not keep its books in, and one whose SKU has no
    // NetSuite item.
    let eur = crate::console::new_order(&s.app, &s.admin, "EUR").await;
    s.pay(&eur).await;
    let unknown = crate::console::new_order(&s.app, &s.admin, "USD").await;
    s.pay(&unknown).await;
    s.drain().await;
    let failed: Vec<String> = s
        .netsuite_rows()
        .await
        .into_iter()
        .filter(|(t, status, _)| t == "OrderPaid" && status == "Failed")
        .map(|(_, _, why)| why.unwrap_or_default())
        .collect();
    assert_eq!(failed.len(), 2, "{:?}", s.netsuite_rows().await);
    assert!(
        failed
            .iter()
            .any(|w| w.contains("EUR") && w.contains("USD") && w.contains("nothing was sent")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|w| w.contains("no item with the SKU SKU-USD-") && w.contains("nothing was sent")),
        "{failed:?}"
    );
    assert_eq!(
        s.query("SELECT id FROM transaction").await.items.len(),
        0,
        "no sales order written"
    );
}

async fn an_existing_netsuite_customer_is_adopted_and_a_claimed_one_left_alone(backend: Backend) {
    let s = connected(backend).await;
    let ns = s.app.state.netsuite.clone().expect("NetSuite");
    let (_, customers) = s.app.get_json(&s.admin, "/api/v1/customers").await;
    let first = &customers["items"][0];
    let second = &customers["items"][1];
    let (first_name, second_name) = (
        first["name"].as_str().expect("name"),
        second["name"].as_str().expect("name"),
    );
    // The accountant already keeps the first customer in NetSuite; the second's name belongs
    // to a record another integration owns.
    let existing = ns
        .client
        .create(
            &s.account(),
            "customer",
            &json!({ "companyName": first_name }),
        )
        .await
        .expect("create");
    ns.client
        .create(
            &s.account(),
            "customer",
            &json!({ "companyName": second_name, "externalId": "crm-4711" }),
        )
        .await
        .expect("create");
    let (status, body) = s
        .app
        .send_json(
            &s.admin,
            Method::POST,
            "/api/integrations/sync/netsuite",
            json!({ "entity_type": "Customer", "entity_ids": [first["id"], second["id"]] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.drain().await;
    let first_id: Uuid = first["id"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("id");
    let adopted = s
        .query(&format!(
            "SELECT id, externalid FROM customer WHERE companyname = '{}'",
            first_name.replace('\'', "''")
        ))
        .await;
    assert_eq!(
        adopted.items.len(),
        1,
        "adopted, not duplicated: {:?}",
        adopted.items
    );
    assert_eq!(adopted.items[0]["id"], existing);
    assert_eq!(
        adopted.items[0]["externalid"],
        customer_external_id(first_id)
    );
    let twins = s
        .query(&format!(
            "SELECT id, externalid, entityid FROM customer WHERE companyname = '{}'",
            second_name.replace('\'', "''")
        ))
        .await;
    assert_eq!(twins.items.len(), 2, "{:?}", twins.items);
    let ours = twins
        .items
        .iter()
        .find(|r| r.get("externalid").map(String::as_str) != Some("crm-4711"))
        .expect("ours");
    let number = second["customer_number"].as_i64().expect("number");
    assert_eq!(ours["entityid"], format!("{second_name} ({number})"));
    // Synced again: still the same two records.
    let (status, _) = s
        .app
        .send_json(
            &s.admin,
            Method::POST,
            "/api/integrations/sync/netsuite",
            json!({ "entity_type": "Customer", "entity_ids": [first["id"], second["id"]] }),
        )
        .await;
    assert_eq!(status, 200);
    s.drain().await;
    assert_eq!(
        s.query("SELECT id FROM customer").await.items.len(),
        3,
        "no twin on a repeat"
    );
}
