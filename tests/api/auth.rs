//! Sign-in, sign-out, sessions, lock-out, CSRF and bad input.

use crate::both_backends;
use crate::helpers::{client, demo_email, read_json, spawn_app, spawn_app_with, Backend};
use erp_bridge::domain::Role;
use erp_bridge::server::demo::DEMO_PASSWORD;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    sign_in_starts_a_session_that_the_api_recognises,
    wrong_password_and_unknown_user_are_refused_alike,
    repeated_failures_lock_the_account,
    session_id_is_rotated_at_sign_in,
    sign_out_ends_the_session,
    idle_sessions_expire,
    cross_site_state_changes_are_refused,
    malformed_input_gets_a_clear_400,
);

async fn sign_in_starts_a_session_that_the_api_recognises(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    let res = app.login(&c, "Admin@Demo.example ", DEMO_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("erp_bridge_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http origin: no Secure flag ({cookie})"
    );
    let me: Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "Admin");
    assert_eq!(me["user"]["email"], "admin@demo.example");
    assert_eq!(me["user"]["tenant_name"], "Demo Distribution Co.");
}

async fn wrong_password_and_unknown_user_are_refused_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    let wrong = app
        .login(&c, demo_email(Role::Admin), "not-the-password")
        .await;
    assert_eq!(wrong.status(), 303);
    assert_eq!(wrong.headers()["location"], "/login?error=invalid");
    let unknown = app.login(&c, "nobody@demo.example", DEMO_PASSWORD).await;
    assert_eq!(unknown.headers()["location"], "/login?error=invalid");
    // The page shows a message, with 401.
    let page = c
        .get(app.url("/login?error=invalid"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 401);
    assert!(page
        .text()
        .await
        .expect("body")
        .contains("The email or password is not right."));
    // JSON callers get 401 and an error body.
    let json = c
        .post(app.url("/auth/login"))
        .header("accept", "application/json")
        .form(&[("email", "nobody@demo.example"), ("password", "x")])
        .send()
        .await
        .expect("request");
    assert_eq!(json.status(), 401);
    let body: Value = json.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
}

async fn repeated_failures_lock_the_account(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_max_failures = 3).await;
    let c = client();
    for _ in 0..3 {
        app.login(&c, demo_email(Role::SalesRep), "wrong-password")
            .await;
    }
    let locked = c
        .post(app.url("/auth/login"))
        .header("accept", "application/json")
        .form(&[
            ("email", demo_email(Role::SalesRep)),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(
        locked.status(),
        429,
        "the right password is refused while locked"
    );
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after > 0 && retry_after <= 300);
    let form = app
        .login(&c, demo_email(Role::SalesRep), DEMO_PASSWORD)
        .await;
    assert_eq!(form.headers()["location"], "/login?error=locked");
    // Other accounts are unaffected.
    app.signed_in(demo_email(Role::Admin)).await;
}

async fn session_id_is_rotated_at_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    let first = app.login(&c, demo_email(Role::Admin), DEMO_PASSWORD).await;
    let first_cookie = session_pair(&first);
    let second = app.login(&c, demo_email(Role::Admin), DEMO_PASSWORD).await;
    let second_cookie = session_pair(&second);
    assert_ne!(
        first_cookie, second_cookie,
        "a new session id at each sign-in"
    );
    let old = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", &first_cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), 401, "the pre-sign-in session id is dead");
}

async fn sign_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = app.signed_in(demo_email(Role::SalesManager)).await;
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let out = c
        .post(app.url("/auth/logout"))
        .header("origin", &app.base)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 303);
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
    let page = c.get(app.url("/integrations")).send().await.expect("page");
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2Fintegrations");
}

async fn idle_sessions_expire(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.session_idle = chrono::TimeDelta::seconds(1)).await;
    let c = app.signed_in(demo_email(Role::Admin)).await;
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let expired = c.get(app.url("/api/v1/me")).send().await.expect("me");
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.expect("json");
    assert_eq!(body["error"]["message"], "Please sign in.");
}

async fn cross_site_state_changes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = app.signed_in(demo_email(Role::Admin)).await;
    let evil_origin = c
        .post(app.url("/api/v1/api-tokens"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({ "name": "x", "role": "Admin" }))
        .send()
        .await
        .expect("request");
    assert_eq!(evil_origin.status(), 403);
    let cross_site = c
        .post(app.url("/rpc/create_api_token"))
        .header("sec-fetch-site", "cross-site")
        .header("accept", "application/json")
        .form(&[("name", "x"), ("role", "Admin")])
        .send()
        .await
        .expect("request");
    assert_eq!(cross_site.status(), 403);
    let logout = c
        .post(app.url("/auth/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 403);
    let tokens: Value = c
        .get(app.url("/api/v1/api-tokens"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        tokens.as_array().map(Vec::len),
        Some(0),
        "nothing was created"
    );
    let same_site = c
        .post(app.url("/api/v1/api-tokens"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .json(&serde_json::json!({ "name": "ok", "role": "SalesRep" }))
        .send()
        .await
        .expect("request");
    assert_eq!(same_site.status(), 201);
}

async fn malformed_input_gets_a_clear_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = app.signed_in(demo_email(Role::Admin)).await;
    let truncated = c
        .post(app.url("/api/v1/api-tokens"))
        .header("content-type", "application/json")
        .body("{\"name\": ");
    let (status, body) = read_json(truncated).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .starts_with("Invalid JSON body"));

    let post = |path: &'static str, body: Value| app.send_json(&c, Method::POST, path, body);
    assert_eq!(
        post("/api/v1/api-tokens", json!({ "name": "x", "role": "Root" }))
            .await
            .0,
        400
    );
    let short = post(
        "/api/v1/users",
        json!({ "email": "new@demo.example", "role": "SalesRep", "password": "short" }),
    );
    let (status, body) = short.await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .contains("at least 12 characters"));
    let dup = post(
        "/api/v1/users",
        json!({ "email": "ADMIN@demo.example", "role": "SalesRep", "password": "long-enough-password" }),
    );
    assert_eq!(dup.await.0, 409, "emails are unique regardless of case");
    assert_eq!(app.get_json(&c, "/api/v1/users/not-a-uuid").await.0, 400);

    let missing_password = c
        .post(app.url("/auth/login"))
        .header("accept", "application/json")
        .form(&[("email", "a@b.example")]);
    assert_eq!(read_json(missing_password).await.0, 400);
    let bad_token = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth("ebt_not-a-token");
    assert_eq!(read_json(bad_token).await.0, 401);
}

/// The `name=value` part of a response's session cookie.
fn session_pair(res: &reqwest::Response) -> String {
    let cookie = res.headers()["set-cookie"].to_str().expect("ascii");
    cookie.split(';').next().expect("pair").to_string()
}
