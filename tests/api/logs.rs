//! The sync log viewer's JSON route: every filter, paging, totals, and tenant scope.

use crate::both_backends;
use crate::helpers::{demo_email, spawn_app, Backend, TestApp};
use chrono::{TimeDelta, Utc};
use erp_bridge::domain::Role;
use erp_bridge::server::store::sync_logs::{self, SyncLogRow};
use serde_json::Value;
use uuid::Uuid;

both_backends!(
    the_log_viewer_filters_pages_and_stays_in_its_tenant,
    a_log_entry_opens_with_its_meaning_payloads_and_delivery,
    the_csv_export_streams_every_row_of_the_range_without_formulas,
    the_dashboard_counts_outcomes_per_hour_and_health_per_record_type,
);

fn row(
    tenant: Uuid,
    i: i64,
    provider: &str,
    entity: &str,
    direction: &str,
    status: &str,
) -> SyncLogRow {
    let started = Utc::now() - TimeDelta::hours(48) + TimeDelta::minutes(i);
    SyncLogRow {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        provider: provider.into(),
        entity_type: entity.into(),
        entity_id: Some(format!("rec-{i}")),
        external_id: Some(format!("erp-{i}")),
        event_type: Some("OrderPaid".into()),
        outbox_id: None,
        direction: direction.into(),
        status: status.into(),
        error_message: (status == "Failed").then(|| "QuickBooks is down".into()),
        request_payload: None,
        response_payload: None,
        started_at: erp_bridge::server::time::truncate(started),
        completed_at: None,
        duration_ms: Some(12),
        retry_count: 0,
        correlation_id: None,
    }
}

async fn seed(app: &TestApp) -> Uuid {
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    let mut rows = Vec::new();
    for i in 0..30 {
        let (provider, entity, direction, status) = match i % 5 {
            0 => ("QuickBooks", "Customer", "ToExternal", "Completed"),
            1 => ("QuickBooks", "Order", "ToExternal", "Failed"),
            2 => ("QuickBooks", "Payment", "FromExternal", "Completed"),
            3 => ("NetSuite", "Order", "ToExternal", "Completed"),
            _ => ("QuickBooks", "Order", "ToExternal", "Skipped"),
        };
        rows.push(row(tenant, i, provider, entity, direction, status));
    }
    // Another tenant's rows never show.
    rows.push(row(
        app.other_tenant,
        7,
        "QuickBooks",
        "Order",
        "ToExternal",
        "Failed",
    ));
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &rows).await.expect("logs");
    tx.commit().await.expect("commit");
    tenant
}

async fn the_log_viewer_filters_pages_and_stays_in_its_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    let get = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (status, body) = app
                .get_json(admin, &format!("/api/integrations/logs{query}"))
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            body
        }
    };
    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["entity_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let all = get(String::new()).await;
    assert_eq!(all["total"], 30, "the tenant's rows only");
    assert_eq!(ids(&all)[0], "rec-29", "newest first");
    let failed = get("?status=Failed".into()).await;
    assert_eq!(failed["total"], 6);
    assert!(failed["items"][0]["error_message"]
        .as_str()
        .is_some_and(|e| e.contains("down")));
    assert_eq!(get("?provider=netsuite".into()).await["total"], 6);
    assert_eq!(get("?provider=QuickBooks".into()).await["total"], 24);
    assert_eq!(get("?direction=FromExternal".into()).await["total"], 6);
    assert_eq!(get("?entity_type=Order".into()).await["total"], 18);
    assert_eq!(
        get("?provider=quickbooks&entity_type=Order&status=Skipped".into()).await["total"],
        6
    );
    assert_eq!(ids(&get("?q=rec-7".into()).await), vec!["rec-7"]);
    assert_eq!(ids(&get("?q=erp-12".into()).await), vec!["rec-12"]);
    // A date range: rows 10 to 19 (one a minute from 48 hours ago).
    let start = Utc::now() - TimeDelta::hours(48) + TimeDelta::minutes(10);
    let from = (start - TimeDelta::seconds(30)).to_rfc3339();
    let to = (start + TimeDelta::minutes(9) + TimeDelta::seconds(30)).to_rfc3339();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let ranged = get(format!("?from={}&to={}", enc(&from), enc(&to))).await;
    assert_eq!(ranged["total"], 10, "{ranged}");
    // Paging.
    let page2 = get("?per_page=7&page=2".into()).await;
    assert_eq!(
        (page2["page"].as_i64(), page2["per_page"].as_i64()),
        (Some(2), Some(7))
    );
    assert_eq!(ids(&page2)[0], "rec-22");
    assert_eq!(
        get("?page=1000000".into()).await["items"],
        serde_json::json!([])
    );
    // Bad input: a clear 400.
    for bad in ["?provider=sage", "?from=yesterday", "?status=Lost"] {
        let (status, body) = app
            .get_json(&admin, &format!("/api/integrations/logs{bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // Sales managers read the log; reps do not.
    let manager = app.signed_in(demo_email(Role::SalesManager)).await;
    assert_eq!(
        app.get_json(&manager, "/api/integrations/logs").await.0,
        200
    );
    let rep = app.signed_in(demo_email(Role::SalesRep)).await;
    assert_eq!(app.get_json(&rep, "/api/integrations/logs").await.0, 403);
}

async fn a_log_entry_opens_with_its_meaning_payloads_and_delivery(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    let mut failed = row(tenant, 1, "QuickBooks", "Customer", "ToExternal", "Failed");
    failed.error_message = Some("rejected: Duplicate Name Exists Error (DisplayName)".into());
    failed.request_payload = Some("{\"DisplayName\":\"Acme\"}".into());
    failed.retry_count = 2;
    let mut theirs = row(
        app.other_tenant,
        2,
        "QuickBooks",
        "Order",
        "ToExternal",
        "Failed",
    );
    theirs.id = Uuid::now_v7();
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &[failed.clone(), theirs.clone()])
        .await
        .expect("logs");
    tx.commit().await.expect("commit");

    let manager = app.signed_in(demo_email(Role::SalesManager)).await;
    let (status, detail) = app
        .get_json(&manager, &format!("/api/integrations/logs/{}", failed.id))
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["log"]["status"], "Failed");
    assert_eq!(detail["log"]["retry_count"], 2);
    let plain = detail["explanation"].as_str().expect("explanation");
    assert!(
        plain.contains("rejected the data") && plain.contains("DisplayName"),
        "{plain}"
    );
    assert_eq!(detail["request_payload"], "{\"DisplayName\":\"Acme\"}");
    assert_eq!(
        detail["delivery"],
        Value::Null,
        "no delivery behind this entry"
    );

    // Another tenant's entry does not exist here; a malformed id is a 400.
    let (status, _) = app
        .get_json(&manager, &format!("/api/integrations/logs/{}", theirs.id))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&manager, "/api/integrations/logs/nope").await;
    assert_eq!(status, 400);
    let rep = app.signed_in(demo_email(Role::SalesRep)).await;
    let (status, _) = app
        .get_json(&rep, &format!("/api/integrations/logs/{}", failed.id))
        .await;
    assert_eq!(status, 403);
}

async fn the_csv_export_streams_every_row_of_the_range_without_formulas(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    // More rows than one page of the export, over two days, plus one whose text is a formula.
    let mut rows: Vec<SyncLogRow> = (0..1_205)
        .map(|i| row(tenant, i, "QuickBooks", "Order", "ToExternal", "Completed"))
        .collect();
    let mut evil = row(
        tenant,
        1_300,
        "QuickBooks",
        "Customer",
        "ToExternal",
        "Failed",
    );
    evil.error_message = Some("=HYPERLINK(\"http://evil.example\",\"click\")".into());
    rows.push(evil);
    rows.push(row(
        app.other_tenant,
        5,
        "QuickBooks",
        "Order",
        "ToExternal",
        "Failed",
    ));
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &rows).await.expect("logs");
    tx.commit().await.expect("commit");

    let admin = app.signed_in(demo_email(Role::Admin)).await;
    let from = (Utc::now() - TimeDelta::days(3)).format("%Y-%m-%d");
    let to = (Utc::now() + TimeDelta::days(1)).format("%Y-%m-%d");
    let res = admin
        .get(app.url(&format!(
            "/api/integrations/export/sync-logs.csv?from={from}&to={to}"
        )))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .expect("disposition")
        .contains("sync-logs-"));
    let body = res.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 1_206,
        "a header and every row of this tenant, across pages"
    );
    assert!(lines[0].starts_with("started_at,provider,direction"));
    assert!(
        body.contains(",\"'=HYPERLINK("),
        "the formula is neutralised: {}",
        &body[..200]
    );
    assert!(!body.contains(",=HYPERLINK(") && !body.contains(",\"=HYPERLINK("));
    let mut times: Vec<&str> = lines[1..].iter().map(|l| &l[..24]).collect();
    let sorted = {
        let mut t = times.clone();
        t.sort();
        t
    };
    assert_eq!(times, sorted, "oldest first");
    times.dedup();

    // A range without rows is a header alone; a bad date is refused; only Admins export.
    let (status, _) = app
        .get_json(
            &admin,
            "/api/integrations/export/sync-logs.csv?from=2001-01-01&to=2001-01-02",
        )
        .await;
    assert_eq!(status, 200);
    let empty = admin
        .get(app.url("/api/integrations/export/sync-logs.csv?from=2001-01-01&to=2001-01-02"))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    assert_eq!(empty.lines().count(), 1);
    let (status, _) = app
        .get_json(
            &admin,
            "/api/integrations/export/sync-logs.csv?from=last+week",
        )
        .await;
    assert_eq!(status, 400);
    let manager = app.signed_in(demo_email(Role::SalesManager)).await;
    let (status, _) = app
        .get_json(&manager, "/api/integrations/export/sync-logs.csv")
        .await;
    assert_eq!(status, 403);
    let audit = admin
        .get(app.url("/api/integrations/export/audit.csv"))
        .send()
        .await
        .expect("audit");
    assert_eq!(audit.status(), 200);
    assert!(audit
        .text()
        .await
        .expect("body")
        .starts_with("created_at,actor_kind"));
}

async fn the_dashboard_counts_outcomes_per_hour_and_health_per_record_type(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    crate::outbox::connect(
        &app.state.db,
        tenant,
        erp_bridge::domain::connection::Provider::QuickBooks,
    )
    .await;
    let at = |hours_ago: i64, mut r: SyncLogRow| {
        r.started_at =
            erp_bridge::server::time::truncate(Utc::now() - TimeDelta::minutes(hours_ago * 60 + 5));
        r
    };
    let mut auth = row(tenant, 3, "QuickBooks", "Customer", "ToExternal", "Failed");
    auth.error_message = Some("authentication failed: 401 AuthenticationFailed".into());
    let rows = vec![
        at(
            0,
            row(tenant, 1, "QuickBooks", "Order", "ToExternal", "Completed"),
        ),
        at(
            0,
            row(tenant, 2, "QuickBooks", "Order", "ToExternal", "Completed"),
        ),
        at(1, auth),
        at(
            2,
            row(
                tenant,
                4,
                "QuickBooks",
                "Customer",
                "ToExternal",
                "Completed",
            ),
        ),
        at(
            2,
            row(tenant, 5, "QuickBooks", "Order", "ToExternal", "Skipped"),
        ),
        // Older than a day, another ERP, another tenant: not in the hourly chart.
        at(
            30,
            row(tenant, 6, "QuickBooks", "Order", "ToExternal", "Failed"),
        ),
        at(
            1,
            row(tenant, 7, "NetSuite", "Order", "ToExternal", "Failed"),
        ),
        at(
            1,
            row(
                app.other_tenant,
                8,
                "QuickBooks",
                "Order",
                "ToExternal",
                "Failed",
            ),
        ),
    ];
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &rows).await.expect("logs");
    tx.commit().await.expect("commit");

    let manager = app.signed_in(demo_email(Role::SalesManager)).await;
    let (status, all) = crate::helpers::read_json(
        manager
            .post(app.url("/rpc/dashboard_health"))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let qbo = all
        .as_array()
        .expect("list")
        .iter()
        .find(|h| h["provider"] == "QuickBooks")
        .expect("QuickBooks")
        .clone();
    let hourly = qbo["hourly"].as_array().expect("hourly");
    assert_eq!(hourly.len(), 24);
    let sum = |k: &str| {
        hourly
            .iter()
            .map(|b| b[k].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    assert_eq!((sum("ok"), sum("failed"), sum("other")), (3, 1, 1), "{qbo}");
    assert_eq!(qbo["auth_failures_24h"], 1);
    assert_eq!(qbo["webhooks_daily"].as_array().map(Vec::len), Some(7));
    let entities = qbo["entities"].as_array().expect("entities");
    let customer = entities
        .iter()
        .find(|e| e["entity_type"] == "Customer")
        .expect("customer health");
    assert!(customer["last_success"].is_string() && customer["last_failure"].is_string());
    let order = entities
        .iter()
        .find(|e| e["entity_type"] == "Order")
        .expect("order health");
    assert!(
        order["last_failure"].is_string(),
        "the 30-hour-old failure is within 7 days"
    );

    // The page draws it, readable without colour: each chart summed up in words.
    let page = manager
        .get(app.url("/integrations"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("3 went through, 1 failed, 1 skipped or waiting."),
        "chart summary"
    );
    assert!(page.contains("1 authentication failure"));
}
