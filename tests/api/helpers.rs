//! Test harness: fresh databases, `spawn_app`, signed-in clients.

use erp_bridge::domain::Role;
use erp_bridge::server::demo::{DEMO_PASSWORD, DEMO_USERS};
use erp_bridge::server::service::{tenants as tenant_service, users as user_service};
use erp_bridge::server::startup::{Application, Settings};
use erp_bridge::server::state::AppState;
use erp_bridge::server::store::Db;
use secrecy::SecretString;
use uuid::Uuid;

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on both backends: `both_backends!(name);` turns `async fn name(Backend)`
/// into `name::sqlite` and `name::postgres` tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_some() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        }
    )*};
}

/// The PostgreSQL server for tests, or None (with a note) when not configured. In CI a missing
/// TEST_DATABASE_URL is an error: the PostgreSQL half of the suite must run there.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set TEST_DATABASE_URL"
            );
            eprintln!("note: TEST_DATABASE_URL not set; skipping the PostgreSQL run of this test");
            None
        }
    }
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    pg: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_url().expect("TEST_DATABASE_URL");
                let name = format!("erp_bridge_test_{}", Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create database");
                pool.close().await;
                let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb {
                    url: url.to_string(),
                    pg: Some((admin, name)),
                    _dir: None,
                }
            }
        }
    }

    pub async fn connect(&self) -> Db {
        let db = Db::connect(&self.url, 5).await.expect("connect");
        db.migrate().await.expect("migrate");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async; use a private runtime on a plain thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running application with the demo tenant seeded and a second tenant ("other").
pub struct TestApp {
    pub base: String,
    /// The test database's URL (for opening a second, separate pool).
    pub db_url: String,
    pub state: AppState,
    pub other_tenant: Uuid,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The webhook verifier token test apps use.
pub const TEST_VERIFIER_TOKEN: &str = "test-verifier-token";

/// Settings for a test app on a free port.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_string(),
        max_connections: 5,
        master_key: Some(SecretString::from(
            erp_bridge::server::crypto::DEMO_MASTER_KEY,
        )),
        master_key_id: "test".into(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        public_url: None,
        session_idle: chrono::TimeDelta::minutes(30),
        login_max_failures: 5,
        login_lockout: chrono::TimeDelta::minutes(5),
        login_source_limit_per_minute: 30,
        trusted_proxies: Default::default(),
        demo: false,
        site_root: None,
        worker_enabled: false,
        worker: Default::default(),
        retention: Default::default(),
        qbo_webhook_verifier_token: Some(SecretString::from(TEST_VERIFIER_TOKEN)),
        webhook_rate_per_second: 1000,
        qbo: None,
        inbound_enabled: false,
        inbound: Default::default(),
        netsuite_base_url: None,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut settings = test_settings(&db.url);
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let addr = app.local_addr().expect("addr");
    let state = app.state().clone();
    erp_bridge::server::demo::seed(&state.db)
        .await
        .expect("demo seed");
    let other = tenant_service::create(&state.db, "other", "Other Tenant Ltd")
        .await
        .expect("tenant");
    let input = user_service::NewUserInput {
        email: "admin@other.example".into(),
        display_name: None,
        role: Role::Admin,
        customer_number: None,
        password: SecretString::from(DEMO_PASSWORD),
    };
    user_service::insert_user(&state.db, other.id, input, "System", "test")
        .await
        .expect("user");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        db_url: db.url.clone(),
        state,
        other_tenant: other.id,
        shutdown: Some(tx),
        _db: db,
    }
}

/// The demo email for a role.
pub fn demo_email(role: Role) -> &'static str {
    DEMO_USERS
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, e)| *e)
        .expect("every role has a demo user")
}

/// A client that keeps cookies and does not follow redirects. A request that has no answer after
/// two minutes fails its test rather than hanging the suite.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs `email` in on a new client; panics unless it works.
    pub async fn signed_in(&self, email: &str) -> reqwest::Client {
        let c = client();
        let res = self.login(&c, email, DEMO_PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-in of {email} redirects");
        assert_eq!(res.headers()["location"], "/");
        c
    }

    /// Posts the sign-in form like a browser without JavaScript.
    pub async fn login(
        &self,
        c: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        c.post(self.url("/auth/login"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("request")
    }

    /// GETs `path` as JSON: (status, body or Null).
    pub async fn get_json(&self, c: &reqwest::Client, path: &str) -> (u16, serde_json::Value) {
        read_json(c.get(self.url(path)).header("accept", "application/json")).await
    }

    /// Sends `body` as JSON: (status, body or Null).
    pub async fn send_json(
        &self,
        c: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        read_json(c.request(method, self.url(path)).json(&body)).await
    }

    /// GETs a page as a browser does. A render that stalls (about 1 in 1,700 under this test
    /// runtime, never reproduced against `serve`; see the session note) is asked for once more
    /// after 15 s, and the stall is printed.
    pub async fn page(&self, c: &reqwest::Client, path: &str) -> reqwest::Response {
        let get = || {
            c.get(self.url(path))
                .header("accept", "text/html")
                .timeout(std::time::Duration::from_secs(15))
                .send()
        };
        match get().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                eprintln!("STALLED: {path} did not answer in 15 s; asking again");
                get().await.expect("page, asked again")
            }
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// A client for `role`, or an anonymous one for None.
    pub async fn as_role(&self, role: Option<Role>) -> reqwest::Client {
        match role {
            Some(r) => self.signed_in(demo_email(r)).await,
            None => client(),
        }
    }
}

/// Sends a request and reads the answer as JSON (Null when the body is empty or not JSON).
pub async fn read_json(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}
