//! Tenant isolation: a user of one tenant never sees or touches another tenant's records.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use erp_bridge::domain::Role;
use erp_bridge::server::store::users;
use serde_json::Value;

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

    let user = demo_admin
        .get(app.url(&format!("/api/v1/users/{}", other_admin.id)))
        .send()
        .await
        .expect("get");
    assert_eq!(user.status(), 404);

    let listed: Value = demo_admin
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
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
    let token: Value = other
        .post(app.url("/api/v1/api-tokens"))
        .json(&serde_json::json!({ "name": "theirs", "role": "Admin" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let token_id = token["summary"]["id"].as_str().expect("id");
    let revoke = demo_admin
        .delete(app.url(&format!("/api/v1/api-tokens/{token_id}")))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoke.status(), 404);
    let fn_revoke = demo_admin
        .post(app.url("/rpc/revoke_api_token"))
        .header("accept", "application/json")
        .form(&[("id", token_id)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(fn_revoke.status(), 404);
    let mine: Value = demo_admin
        .get(app.url("/api/v1/api-tokens"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(mine.as_array().map(Vec::len), Some(0));
    let theirs: Value = other
        .get(app.url("/api/v1/api-tokens"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(theirs[0]["revoked_at"].is_null(), "still active");
}

async fn api_tokens_act_within_their_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let created: Value = admin
        .post(app.url("/api/v1/api-tokens"))
        .json(&serde_json::json!({ "name": "script", "role": "SalesManager" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let secret = created["token"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("ebt_"));
    let script = reqwest::Client::new();
    let me: Value = script
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "SalesManager");
    assert_eq!(me["actor"]["kind"], "ApiToken");
    let conns = script
        .get(app.url("/api/integrations/connections"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("conns");
    assert_eq!(conns.status(), 200);
    let forbidden = script
        .get(app.url("/api/v1/users"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("users");
    assert_eq!(
        forbidden.status(),
        403,
        "the token acts with its own role, not its creator's"
    );
    let id = created["summary"]["id"].as_str().expect("id");
    assert_eq!(
        admin
            .delete(app.url(&format!("/api/v1/api-tokens/{id}")))
            .send()
            .await
            .expect("revoke")
            .status(),
        204
    );
    let revoked = script
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("me");
    assert_eq!(revoked.status(), 401);
}
