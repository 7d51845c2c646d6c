//! Admin surfaces under hostile input: paging at the edges of i64, invented HTTP methods, the
//! no-JavaScript API-token hand-over, retention of what anonymous callers can grow.

use crate::both_backends;
use crate::helpers::{client, demo_email, spawn_app, Backend, TestApp, TestDb};
use erp_bridge::domain::Role;
use erp_bridge::server::outbox::maintenance::{self, RetentionConfig};
use erp_bridge::server::store::{audit, inbox, webhook_receipts};
use erp_bridge::server::time;

both_backends!(
    any_page_number_is_answered,
    invented_methods_do_not_grow_the_metrics,
    a_new_tokens_secret_never_rests_in_clear,
    receipts_inbox_and_audit_are_pruned,
    pages_and_answers_carry_security_headers,
    the_sandbox_obeys_only_its_own_user,
    a_sandbox_beyond_loopback_needs_its_control_token,
    text_either_backend_cannot_store_is_a_clear_400,
);

/// PostgreSQL cannot store a NUL character in text; SQLite can. Neither answers 500.
async fn text_either_backend_cannot_store_is_a_clear_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    let (status, body) = app
        .send_json(
            &admin,
            reqwest::Method::POST,
            "/api/v1/customers",
            serde_json::json!({ "name": "Nul\u{0}Corp" }),
        )
        .await;
    match backend {
        Backend::Sqlite => assert_eq!(status, 201, "{body}"),
        Backend::Postgres => {
            assert_eq!(status, 400, "{body}");
            assert!(body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("NUL")));
        }
    }
}

/// POSTs `body` to `url` with one extra header (none when `header` is empty); the status.
async fn post_with(url: &str, header: (&str, &str), body: &serde_json::Value) -> u16 {
    let mut req = client().post(url).json(body);
    if !header.0.is_empty() {
        req = req.header(header.0, header.1);
    }
    req.send().await.expect("post").status().as_u16()
}

/// The QuickBooks sandbox's control and form routes: no cross-site posts, no foreign Host names
/// (DNS rebinding), no codes for unregistered redirect URIs. Scripts without browser headers
/// (these tests, curl) still drive it.
async fn the_sandbox_obeys_only_its_own_user(backend: Backend) {
    let q = crate::quickbooks::qbo_app(backend, |_, _| {}).await;
    let faults = format!("{}/_sandbox/faults", q.sandbox_url);
    let body = serde_json::json!({ "error_rate_5xx": 1.0 });
    let c = client();
    assert_eq!(
        post_with(&faults, ("origin", "https://evil.example"), &body).await,
        403
    );
    assert_eq!(
        post_with(&faults, ("sec-fetch-site", "cross-site"), &body).await,
        403
    );
    assert_eq!(
        post_with(&faults, ("host", "rebind.evil.example"), &body).await,
        421
    );
    let token = c
        .post(format!(
            "{}/_sandbox/realms/{}/token",
            q.sandbox_url,
            crate::quickbooks::REALM
        ))
        .header("origin", "null")
        .send()
        .await
        .expect("post");
    assert_eq!(token.status(), 403, "a sandboxed iframe cannot mint tokens");
    let current: serde_json::Value = c
        .get(&faults)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        current["error_rate_5xx"], 0.0,
        "nothing was changed: {current}"
    );
    // The sandbox's own page may post to it.
    let same_origin = c
        .post(&faults)
        .header("origin", &q.sandbox_url)
        .json(&serde_json::json!({ "error_rate_5xx": 0.0 }))
        .send()
        .await
        .expect("post");
    assert!(
        same_origin.status().is_success(),
        "{}",
        same_origin.status()
    );
    // An authorization request for a redirect URI nobody registered shows an error page.
    let authorize = format!(
        "{}/connect/oauth2?client_id={}&response_type=code&scope=com.intuit.quickbooks.accounting&state=s&redirect_uri={}",
        q.sandbox_url,
        crate::quickbooks::CLIENT_ID,
        "https%3A%2F%2Fevil.example%2Fcallback"
    );
    let res = c.get(&authorize).send().await.expect("authorize");
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("page").contains("redirect_uri"));
}

async fn pages_and_answers_carry_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    for path in ["/login", "/", "/integrations", "/no-such-page"] {
        let c = if path == "/login" {
            client()
        } else {
            admin.clone()
        };
        let res = c.get(app.url(path)).send().await.expect("page");
        let h = res.headers().clone();
        let html = res.text().await.expect("html");
        let csp = h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_string();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"));
        assert!(nonce.len() >= 16, "{path}: {nonce}");
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}: the page hydrates");
        for tag in html.split("<script").skip(1) {
            let opening = tag.split('>').next().unwrap_or_default();
            assert!(
                opening.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: a script without the render's nonce: <script{opening}>"
            );
        }
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
    }
    // Each render has its own nonce.
    let a = client().get(app.url("/login")).send().await.expect("a");
    let b = client().get(app.url("/login")).send().await.expect("b");
    assert_ne!(
        a.headers()["content-security-policy"],
        b.headers()["content-security-policy"]
    );
    // JSON answers get the strict default.
    let res = admin.get(app.url("/api/v1/me")).send().await.expect("me");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.starts_with("default-src 'self'") && !csp.contains("nonce"),
        "{csp}"
    );
}

async fn any_page_number_is_answered(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    for path in [
        "/api/v1/orders?page=9223372036854775807&per_page=9223372036854775807",
        "/api/v1/orders?page=-9223372036854775808",
        "/api/v1/customers?page=9223372036854775807",
        "/api/v1/products?page=4611686018427387904&per_page=200",
        "/api/integrations/outbox?page=9223372036854775807",
    ] {
        let (status, body) = app.get_json(&admin, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body["items"].is_array(), "{path}: {body}");
    }
}

async fn invented_methods_do_not_grow_the_metrics(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).expect("token");
        let _ = c.request(method, app.url("/api/v1/orders")).send().await;
    }
    let metrics = c
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        !metrics.contains("INVENTED"),
        "raw methods leaked into labels"
    );
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
}

/// The session rows' raw bytes, whichever backend holds them.
async fn session_bytes(app: &TestApp) -> Vec<u8> {
    let rows: Vec<Vec<u8>> = match &app.state.db {
        erp_bridge::server::store::Db::Sqlite { writer, .. } => {
            sqlx::query_scalar("SELECT data FROM tower_sessions")
                .fetch_all(writer)
                .await
                .expect("sessions")
        }
        erp_bridge::server::store::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT data FROM tower_sessions.session")
                .fetch_all(pool)
                .await
                .expect("sessions")
        }
    };
    rows.concat()
}

async fn a_new_tokens_secret_never_rests_in_clear(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    // The form as a browser without JavaScript posts it.
    let res = admin
        .post(app.url("/rpc/create_api_token"))
        .header("origin", &app.base)
        .header("accept", "text/html")
        .header("referer", app.url("/admin/api-tokens"))
        .form(&[("name", "nightly export"), ("role", "SalesManager")])
        .send()
        .await
        .expect("create");
    assert!(res.status().is_redirection(), "{}", res.status());
    let stored = session_bytes(&app).await;
    let page = admin
        .get(app.url("/admin/api-tokens"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let shown = page
        .split("<pre><code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the page shows the new token once");
    assert!(shown.len() >= 20, "{shown}");
    assert!(
        !stored.windows(shown.len()).any(|w| w == shown.as_bytes()),
        "the secret was in the session in clear"
    );
    // It works, and it is shown only once.
    let me = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(shown)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);
    let again = admin
        .get(app.url("/admin/api-tokens"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!again.contains(shown));
}

async fn receipts_inbox_and_audit_are_pruned(backend: Backend) {
    // A database of its own: an app would run its own retention pass at start.
    let test_db = TestDb::new(backend).await;
    let db = &test_db.connect().await;
    let old = time::now() - chrono::TimeDelta::days(40);
    let receipt = |at| webhook_receipts::Receipt {
        id: uuid::Uuid::now_v7(),
        provider: "QuickBooks".into(),
        received_at: at,
        signature_ok: true,
        external_company_id: None,
        tenant_id: None,
        routed: false,
        event_count: 0,
        status_code: 200,
        body_bytes: 2,
        error: None,
    };
    let event = |at| audit::AuditEvent {
        tenant_id: None,
        actor_kind: "System".into(),
        actor_id: None,
        action: "test.event".into(),
        entity_type: "Test".into(),
        entity_id: "1".into(),
        order_id: None,
        before_json: None,
        after_json: None,
        request_id: None,
        created_at: at,
    };
    let tenant = erp_bridge::server::store::tenants::Tenant {
        id: uuid::Uuid::now_v7(),
        name: "t".into(),
        slug: "t".into(),
        created_at: time::now(),
    };
    let inbox_row = |at, status: &str| inbox::InboxRow {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant.id,
        provider: "QuickBooks".into(),
        external_event_id: uuid::Uuid::now_v7().to_string(),
        external_company_id: None,
        event_type: None,
        entity_type: None,
        entity_id: None,
        payload: None,
        received_at: at,
        status: status.into(),
    };
    let mut tx = db.begin().await.expect("tx");
    erp_bridge::server::store::tenants::insert(&mut tx, &tenant)
        .await
        .expect("tenant");
    for at in [old, time::now()] {
        webhook_receipts::insert(&mut tx, &receipt(at))
            .await
            .expect("receipt");
        audit::record(&mut tx, &event(at)).await.expect("audit");
    }
    // Old and finished goes; old but still pending, or recent, stays.
    let rows = [
        inbox_row(old, "Completed"),
        inbox_row(old, "Pending"),
        inbox_row(time::now(), "Completed"),
    ];
    inbox::insert_batch(&mut tx, &rows).await.expect("inbox");
    tx.commit().await.expect("commit");
    webhook_receipts::add_refusals(
        db,
        &[webhook_receipts::RefusalCount {
            provider: "QuickBooks".into(),
            minute: old,
            outcome: "bad_signature".into(),
            count: 7,
        }],
    )
    .await
    .expect("refusals");
    let report = maintenance::run(
        db,
        &RetentionConfig {
            audit: chrono::TimeDelta::days(30),
            ..RetentionConfig::default()
        },
    )
    .await
    .expect("retention");
    assert_eq!(
        report.webhook_receipts_deleted, 2,
        "one receipt and one count row"
    );
    assert_eq!(report.audit_deleted, 1, "{report:?}");
    assert_eq!(report.inbox_deleted, 1, "{report:?}");
    let left = inbox::list(db, tenant.id, 10).await.expect("inbox");
    assert_eq!(left.len(), 2);
    let left = webhook_receipts::recent(db, "QuickBooks", 10)
        .await
        .expect("recent");
    assert_eq!(left.len(), 1);
    let counts =
        webhook_receipts::refusals_since(db, "QuickBooks", old - chrono::TimeDelta::days(1))
            .await
            .expect("counts");
    assert!(counts.is_empty());
}

/// Bound beyond loopback, the sandbox's control routes need the control token.
async fn a_sandbox_beyond_loopback_needs_its_control_token(_backend: Backend) {
    use erp_bridge::server::sandbox::quickbooks::{self as sandbox, SandboxConfig};
    let dir = tempfile::tempdir().expect("dir");
    let mut cfg = SandboxConfig::new(dir.path().join("s.db"), "c", "s", "v");
    cfg.control_token = Some(secrecy::SecretString::from("let-me-in"));
    let handle = sandbox::start(cfg, "0.0.0.0:0".parse().expect("addr"))
        .await
        .expect("sandbox");
    let url = format!("http://127.0.0.1:{}/_sandbox/faults", handle.addr.port());
    let body = serde_json::json!({ "latency_ms": 1 });
    let c = client();
    assert_eq!(post_with(&url, ("", ""), &body).await, 401);
    assert_eq!(
        post_with(&url, ("x-sandbox-token", "let-me-out"), &body).await,
        401
    );
    let with = post_with(&url, ("x-sandbox-token", "let-me-in"), &body).await;
    assert!((200..300).contains(&with), "{with}");
    // The ERP's own API is not a control route: it answers by its own credentials (401 here).
    let api = c
        .get(format!(
            "http://127.0.0.1:{}/v3/company/1/companyinfo/1",
            handle.addr.port()
        ))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 401);
    handle.stop().await;
}
