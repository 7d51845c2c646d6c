//! Health, readiness, metrics, error pages, start-up failures.

use crate::both_backends;
use crate::helpers::{client, spawn_app, test_settings, Backend};
use erp_bridge::domain::Role;
use erp_bridge::server::startup::Application;

both_backends!(
    health_readiness_and_metrics_answer,
    pages_answer_with_the_right_status
);

async fn health_readiness_and_metrics_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    assert_eq!(
        c.get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        200
    );
    let ready = c.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(
        ready.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let metrics = app.page(&c, "/metrics").await.text().await.expect("text");
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/readyz\""), "{metrics}");
}

async fn pages_answer_with_the_right_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let anon = client();
    let home = anon
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), 303, "anonymous visitors are sent to sign in");
    assert_eq!(home.headers()["location"], "/login?next=%2F");
    let login = anon.get(app.url("/login")).send().await.expect("login");
    assert_eq!(login.status(), 200);
    assert!(login
        .text()
        .await
        .expect("body")
        .contains("action=\"/auth/login\""));

    let rep = app.as_role(Some(Role::SalesRep)).await;
    let forbidden = app.page(&rep, "/integrations").await;
    assert_eq!(forbidden.status(), 403);
    assert!(forbidden
        .text()
        .await
        .expect("body")
        .contains("You do not have permission"));
    let missing = app.page(&rep, "/no/such/page").await;
    assert_eq!(missing.status(), 404);
    let rep_home = app.page(&rep, "/").await.text().await.expect("body");
    assert!(
        rep_home.contains("Sales rep at Demo Distribution Co."),
        "role home page"
    );
    assert!(
        !rep_home.contains("href=\"/integrations\""),
        "no link the role may not use"
    );

    let manager = app.as_role(Some(Role::SalesManager)).await;
    let dashboard = app.page(&manager, "/integrations").await;
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.expect("body");
    assert!(
        html.contains("QuickBooks Online")
            && html.contains("NetSuite")
            && html.contains("Not connected")
    );
}

#[tokio::test]
async fn start_up_refuses_an_unreachable_database_with_a_clear_message() {
    let settings = test_settings("postgres://nobody:secret-pw@127.0.0.1:1/none");
    let err = Application::build(settings)
        .await
        .err()
        .expect("start-up fails");
    let message = format!("{err:#}");
    assert!(
        message.contains(
            "could not connect to the database at postgres://nobody:***@127.0.0.1:1/none"
        ),
        "{message}"
    );
    assert!(!message.contains("secret-pw"), "{message}");
}

#[tokio::test]
async fn non_demo_serve_requires_a_master_key() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = test_settings(&format!("sqlite://{}", dir.path().join("x.db").display()));
    settings.master_key = None;
    let err = Application::build(settings)
        .await
        .err()
        .expect("start-up fails");
    assert!(format!("{err:#}").contains("ERP_BRIDGE_MASTER_KEY is not set"));
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_served_json_routes() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let doc: serde_json::Value = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: std::collections::BTreeSet<(String, String)> =
        erp_bridge::server::http::api::routes()
            .into_iter()
            .filter(|r| r.path != "/api/v1/openapi.json")
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
    assert_eq!(documented, served);
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Order",
        "OrderItem",
        "Customer",
        "NewOrder",
        "SyncBadge",
        "ErrorBody",
        "OutboxItem",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert!(doc["components"]["securitySchemes"]["api_token"].is_object());
}

/// A running app on SQLite leaves write-ahead-log checkpoints to its background task: the
/// writer's own auto-checkpoint is off, so commits never pay for one.
#[tokio::test]
async fn sqlite_checkpoints_run_off_the_commit_path() {
    let app = spawn_app(Backend::Sqlite).await;
    let db = &app.state.db;
    let mut auto = -1;
    for _ in 0..40 {
        auto = erp_bridge::on_conn!(db.write(), p => sqlx::query_scalar::<_, i64>("PRAGMA wal_autocheckpoint").fetch_one(p).await)
            .expect("pragma");
        if auto == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        auto, 0,
        "the writer leaves checkpoints to the background task"
    );
}
