//! An Admin changes users' access: role and active flag apply from the user's next request, the
//! tenant keeps an active Admin, nobody deactivates themselves, every change is audited.

use crate::both_backends;
use crate::helpers::{demo_email, spawn_app, Backend};
use erp_bridge::domain::Role;
use erp_bridge::server::demo::DEMO_PASSWORD;
use reqwest::Method;
use serde_json::json;

both_backends!(an_admin_changes_roles_and_deactivates_users);

async fn an_admin_changes_roles_and_deactivates_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.as_role(Some(Role::Admin)).await;
    let rep = app.as_role(Some(Role::SalesRep)).await;
    let (_, users) = app.get_json(&admin, "/api/v1/users").await;
    let id_of = |email: &str| {
        users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["email"] == email)
            .and_then(|u| u["id"].as_str())
            .expect("user")
            .to_string()
    };
    let rep_id = id_of(demo_email(Role::SalesRep));
    let admin_id = id_of(demo_email(Role::Admin));
    let path = |id: &str| format!("/api/v1/users/{id}");

    // A sales rep made sales manager reaches the sync log on its very next request.
    assert_eq!(app.get_json(&rep, "/api/integrations/logs").await.0, 403);
    let (status, changed) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&rep_id),
            json!({ "role": "SalesManager" }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["role"], "SalesManager");
    assert_eq!(changed["is_active"], true, "left out, kept");
    assert_eq!(app.get_json(&rep, "/api/integrations/logs").await.0, 200);

    // A Customer user belongs to a customer.
    let (status, _) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&rep_id),
            json!({ "role": "Customer" }),
        )
        .await;
    assert_eq!(status, 409, "a Customer user needs its customer");
    let (status, _) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&rep_id),
            json!({ "role": "Customer", "customer_number": 999_999 }),
        )
        .await;
    assert_eq!(status, 409, "no such customer");
    let (_, customers) = app.get_json(&admin, "/api/v1/customers").await;
    let number = customers["items"][0]["customer_number"]
        .as_i64()
        .expect("number");
    let (status, customer) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&rep_id),
            json!({ "role": "Customer", "customer_number": number }),
        )
        .await;
    assert_eq!(status, 200, "{customer}");
    assert_eq!(customer["customer_id"], customers["items"][0]["id"]);
    assert_eq!(app.get_json(&rep, "/api/v1/customers").await.0, 403);

    // Deactivated: the session stops working and signing in fails.
    let (status, off) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&rep_id),
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(off["is_active"], false);
    assert_eq!(app.get_json(&rep, "/api/v1/me").await.0, 401);
    let fresh = crate::helpers::client();
    let res = app
        .login(&fresh, demo_email(Role::SalesRep), DEMO_PASSWORD)
        .await;
    assert_ne!(
        res.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/"),
        "a deactivated user cannot sign in"
    );

    // The tenant keeps an active Admin; nobody deactivates themselves.
    let (status, err) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&admin_id),
            json!({ "role": "SalesRep" }),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err.to_string().contains("last active Admin"));
    let (status, _) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&admin_id),
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(status, 409);

    // Only Admins change access; another tenant's user does not exist here.
    let manager = app.as_role(Some(Role::SalesManager)).await;
    let (status, _) = app
        .send_json(
            &manager,
            Method::PATCH,
            &path(&rep_id),
            json!({ "is_active": true }),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .send_json(
            &admin,
            Method::PATCH,
            &path(&uuid::Uuid::new_v4().to_string()),
            json!({ "is_active": true }),
        )
        .await;
    assert_eq!(status, 404);

    let audits: Vec<(String, String)> = erp_bridge::on_conn!(app.state.db.read(), p =>
        sqlx::query_as("SELECT before_json, after_json FROM audit_events WHERE action = 'user.access_changed' ORDER BY created_at")
            .fetch_all(p).await)
    .expect("audit");
    assert_eq!(audits.len(), 3);
    assert!(audits[0].0.contains("SalesRep") && audits[0].1.contains("SalesManager"));
}
