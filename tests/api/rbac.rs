//! RBAC: one table over every server function and JSON route × every role and anonymous.
//! The table must name every route the application registers (and nothing else), so adding a
//! route without deciding who may use it fails here.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use erp_bridge::domain::Role;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Expected status per caller: [anonymous, Admin, SalesManager, SalesRep, Customer].
type Expect = [u16; 5];

const CALLERS: [Option<Role>; 5] = [
    None,
    Some(Role::Admin),
    Some(Role::SalesManager),
    Some(Role::SalesRep),
    Some(Role::Customer),
];

const SIGNED_IN: Expect = [401, 200, 200, 200, 200];
const ADMIN_ONLY: Expect = [401, 200, 403, 403, 403];
const VIEWERS: Expect = [401, 200, 200, 403, 403];

enum Body {
    None,
    Json(fn(usize, &Ids) -> serde_json::Value),
    Form(fn(usize, &Ids) -> String),
}

struct Case {
    method: &'static str,
    /// The registered path (with `{param}` placeholders).
    route: &'static str,
    body: Body,
    expect: Expect,
}

/// Ids of real records the cases point at.
struct Ids {
    admin_user: String,
    token: String,
}

fn cases() -> Vec<Case> {
    use Body::*;
    let c = |method, route, body, expect| Case {
        method,
        route,
        body,
        expect,
    };
    vec![
        // JSON API
        c("GET", "/api/v1/me", None, SIGNED_IN),
        c("GET", "/api/v1/users", None, ADMIN_ONLY),
        c(
            "POST",
            "/api/v1/users",
            Json(|n, _| {
                serde_json::json!({
                    "email": format!("rbac{n}@demo.example"), "role": "SalesRep", "password": "long-enough-password"
                })
            }),
            [401, 201, 403, 403, 403],
        ),
        c("GET", "/api/v1/users/{id}", None, ADMIN_ONLY),
        c("GET", "/api/v1/api-tokens", None, ADMIN_ONLY),
        c(
            "POST",
            "/api/v1/api-tokens",
            Json(|n, _| serde_json::json!({ "name": format!("t{n}"), "role": "SalesRep" })),
            [401, 201, 403, 403, 403],
        ),
        c(
            "DELETE",
            "/api/v1/api-tokens/{id}",
            None,
            [401, 204, 403, 403, 403],
        ),
        c("GET", "/api/integrations/connections", None, VIEWERS),
        // Server functions (the UI's calls)
        c("POST", "/rpc/whoami", None, [200, 200, 200, 200, 200]),
        c("POST", "/rpc/list_users", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/create_user",
            Form(|n, _| {
                format!(
            "email=rbacfn{n}%40demo.example&display_name=x&role=SalesRep&password=long-enough-password"
        )
            }),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/list_api_tokens", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/create_api_token",
            Form(|n, _| format!("name=fn{n}&role=SalesRep")),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/take_created_api_token", None, ADMIN_ONLY),
        c(
            "POST",
            "/rpc/revoke_api_token",
            Form(|_, ids| format!("id={}", ids.token)),
            ADMIN_ONLY,
        ),
        c("POST", "/rpc/list_connections", None, VIEWERS),
    ]
}

fn registered_routes() -> BTreeSet<(String, String)> {
    let mut all: BTreeSet<(String, String)> = erp_bridge::server::http::api::routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        all.insert((method.to_string(), path.to_string()));
    }
    all
}

#[test]
fn the_table_names_every_registered_route() {
    let table: BTreeSet<(String, String)> = cases()
        .iter()
        .map(|c| (c.method.to_string(), c.route.to_string()))
        .collect();
    let registered = registered_routes();
    let missing: Vec<_> = registered.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without an RBAC expectation: {missing:?}"
    );
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "RBAC expectations for routes that do not exist: {stale:?}"
    );
}

both_backends!(every_route_answers_every_role_as_the_table_says);

async fn every_route_answers_every_role_as_the_table_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = prepare(&app).await;
    let counter = AtomicUsize::new(0);
    let mut failures = Vec::new();
    for caller in CALLERS {
        let client = app.as_role(caller).await;
        for case in cases() {
            let status = call(
                &app,
                &client,
                &case,
                &ids,
                counter.fetch_add(1, Ordering::Relaxed),
            )
            .await;
            let expected = case.expect[CALLERS.iter().position(|c| *c == caller).expect("caller")];
            if status != expected {
                failures.push(format!(
                    "{} {} as {caller:?}: got {status}, expected {expected}",
                    case.method, case.route
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC mismatches:\n{}",
        failures.join("\n")
    );
}

async fn prepare(app: &TestApp) -> Ids {
    let admin = app.as_role(Some(Role::Admin)).await;
    let me: serde_json::Value = admin
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let token: serde_json::Value = admin
        .post(app.url("/api/v1/api-tokens"))
        .json(&serde_json::json!({ "name": "rbac", "role": "SalesRep" }))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    Ids {
        admin_user: me["user"]["id"].as_str().expect("id").to_string(),
        token: token["summary"]["id"].as_str().expect("id").to_string(),
    }
}

async fn call(app: &TestApp, client: &reqwest::Client, case: &Case, ids: &Ids, n: usize) -> u16 {
    let path = case.route.replace(
        "{id}",
        if case.route.contains("users") {
            &ids.admin_user
        } else {
            &ids.token
        },
    );
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let mut req = client
        .request(method, app.url(&path))
        .header("accept", "application/json");
    req = match &case.body {
        Body::None if path.starts_with("/rpc/") => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(""),
        Body::None => req,
        Body::Json(f) => req.json(&f(n, ids)),
        Body::Form(f) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(f(n, ids)),
    };
    req.send().await.expect("request").status().as_u16()
}
