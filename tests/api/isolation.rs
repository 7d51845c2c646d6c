//! Tenant isolation: a user of one tenant never sees or touches another tenant's records.

use crate::both_backends;
use crate::helpers::{read_json, spawn_app, Backend};
use erp_bridge::domain::Role;
use erp_bridge::server::store::users;
use reqwest::Method;
use serde_json::json;

both_backends!(
    another_tenants_records_are_not_found,
    api_tokens_act_within_their_tenant
);

async fn another_tenants_records_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let other_admin = users::list(&app.state.db, app.other_tenant)
        .await
        .expect("list")
        .remove(0);
    let demo_admin = app.as_role(Some(Role::Admin)).await;

    let (status, _) = app
        .get_json(&demo_admin, &format!("/api/v1/users/{}", other_admin.id))
        .await;
    assert_eq!(status, 404);
    let (_, listed) = app.get_json(&demo_admin, "/api/v1/users").await;
    let emails: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails.len(), 4);
    assert!(!emails.contains(&"admin@other.example"));

    // The other tenant's admin creates a token; the demo admin can neither list nor revoke it.
    let other = app.signed_in("admin@other.example").await;
    let (_, token) = app
        .send_json(
            &other,
            Method::POST,
            "/api/v1/api-tokens",
            json!({ "name": "theirs", "role": "Admin" }),
        )
        .await;
    let token_id = token["summary"]["id"].as_str().expect("id");
    let (status, _) = app
        .send_json(
            &demo_admin,
            Method::DELETE,
            &format!("/api/v1/api-tokens/{token_id}"),
            json!(null),
        )
        .await;
    assert_eq!(status, 404);
    let fn_revoke = demo_admin
        .post(app.url("/rpc/revoke_api_token"))
        .header("accept", "application/json")
        .form(&[("id", token_id)]);
    assert_eq!(read_json(fn_revoke).await.0, 404);
    let (_, mine) = app.get_json(&demo_admin, "/api/v1/api-tokens").await;
    assert_eq!(mine.as_array().map(Vec::len), Some(0));
    let (_, theirs) = app.get_json(&other, "/api/v1/api-tokens").await;
    assert!(theirs[0]["revoked_at"].is_null(), "still active");
}

async fn api_tokens_act_within_their_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let (status, created) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/v1/api-tokens",
            json!({ "name": "script", "role": "SalesManager" }),
        )
        .await;
    assert_eq!(status, 201);
    let secret = created["token"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("ebt_"));
    let script = reqwest::Client::new();
    let as_script = |path: &str| read_json(script.get(app.url(path)).bearer_auth(&secret));
    let (_, me) = as_script("/api/v1/me").await;
    assert_eq!(
        (me["role"].as_str(), me["actor"]["kind"].as_str()),
        (Some("SalesManager"), Some("ApiToken"))
    );
    assert_eq!(as_script("/api/integrations/connections").await.0, 200);
    assert_eq!(
        as_script("/api/v1/users").await.0,
        403,
        "the token acts with its own role, not its creator's"
    );
    let id = created["summary"]["id"].as_str().expect("id");
    let (status, _) = app
        .send_json(
            &admin,
            Method::DELETE,
            &format!("/api/v1/api-tokens/{id}"),
            json!(null),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        as_script("/api/v1/me").await.0,
        401,
        "revoked tokens stop working"
    );
}
