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
    the_log_pages_by_cursor_both_ways_and_caps_its_count,
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

/// `GET /api/integrations/logs{query}` as `who`, which must answer 200.
async fn logs(app: &TestApp, who: &reqwest::Client, query: String) -> Value {
    let (status, body) = app
        .get_json(who, &format!("/api/integrations/logs{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

/// One text field of every item of a page.
fn column(body: &Value, field: &str) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i[field].as_str().unwrap_or_default().to_string())
        .collect()
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
    let get = |query: String| logs(&app, &admin, query);
    let ids = |body: &Value| column(body, "entity_id");
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

async fn the_log_pages_by_cursor_both_ways_and_caps_its_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    // 120 rows, three to a timestamp: the keyset must break ties by id, never skip or repeat.
    let base = Utc::now() - TimeDelta::hours(10);
    let rows: Vec<SyncLogRow> = (0..120)
        .map(|i| {
            let status = if i % 4 == 0 { "Failed" } else { "Completed" };
            let mut r = row(tenant, i, "QuickBooks", "Order", "ToExternal", status);
            r.started_at = erp_bridge::server::time::truncate(base + TimeDelta::minutes(i / 3));
            r
        })
        .collect();
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &rows).await.expect("logs");
    tx.commit().await.expect("commit");
    let admin = app.signed_in(demo_email(Role::Admin)).await;
    let get = |query: String| logs(&app, &admin, query);
    let ids = |body: &Value| column(body, "id");
    let cursor = |body: &Value, key: &str| body[key].as_str().map(str::to_string);

    // The whole log in one page is the order every walk must reproduce.
    let everything = get("?per_page=200".into()).await;
    assert_eq!(everything["total"], 120);
    assert_eq!(everything["total_capped"], false);
    assert_eq!(everything["cursor"], Value::Null, "one page: nothing older");
    let order = ids(&everything);

    // Older, page by page.
    let p1 = get("?per_page=50".into()).await;
    assert_eq!(
        (p1["page"].as_i64(), p1["prev_cursor"].clone()),
        (Some(1), Value::Null)
    );
    let c2 = cursor(&p1, "cursor").expect("an older page");
    let p2 = get(format!("?per_page=50&cursor={c2}")).await;
    assert_eq!(p2["page"], 2);
    let p3 = get(format!(
        "?per_page=50&cursor={}",
        cursor(&p2, "cursor").expect("older")
    ))
    .await;
    assert_eq!(
        (p3["page"].as_i64(), p3["cursor"].clone()),
        (Some(3), Value::Null),
        "the last page"
    );
    let walked: Vec<String> = [&p1, &p2, &p3].iter().flat_map(|p| ids(p)).collect();
    assert_eq!(walked, order, "no row skipped or repeated across ties");

    // Newer, back again: the same pages.
    let back2 = get(format!(
        "?per_page=50&cursor={}",
        cursor(&p3, "prev_cursor").expect("newer")
    ))
    .await;
    assert_eq!((back2["page"].as_i64(), ids(&back2)), (Some(2), ids(&p2)));
    let back1 = get(format!(
        "?per_page=50&cursor={}",
        cursor(&back2, "prev_cursor").expect("newer")
    ))
    .await;
    assert_eq!((back1["page"].as_i64(), ids(&back1)), (Some(1), ids(&p1)));
    assert_eq!(back1["prev_cursor"], Value::Null);

    // A cursor keeps the filters it is sent with.
    let failed = get("?per_page=20&status=Failed".into()).await;
    assert_eq!(failed["total"], 30);
    let failed2 = get(format!(
        "?per_page=20&status=Failed&cursor={}",
        cursor(&failed, "cursor").expect("older")
    ))
    .await;
    assert_eq!(ids(&failed2).len(), 10);
    assert!(failed2["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| i["status"] == "Failed"));

    // A cursor we never gave out is a clear 400.
    for bad in [
        "x",
        "o2-abc-0",
        "q2-1-00000000000000000000000000000000",
        "o2-1",
    ] {
        let (status, body) = app
            .get_json(&admin, &format!("/api/integrations/logs?cursor={bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    // Past 10,000 matching rows the count stops and says so.
    let many: Vec<SyncLogRow> = (0..10_000)
        .map(|i| row(tenant, i, "NetSuite", "Customer", "ToExternal", "Completed"))
        .collect();
    let mut tx = app.state.db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &many).await.expect("logs");
    tx.commit().await.expect("commit");
    let capped = get(String::new()).await;
    assert_eq!(
        (capped["total"].as_i64(), capped["total_capped"].as_bool()),
        (Some(10_000), Some(true))
    );
    let exact = get("?provider=quickbooks".into()).await;
    assert_eq!(
        (exact["total"].as_i64(), exact["total_capped"].as_bool()),
        (Some(120), Some(false))
    );
}

/// The viewer's queries read the index of their filter, in the paging order: no table scan, no
/// walk of the tenant's whole log, and — but for the record search (a handful of rows) — no sort.
/// SQLite plans without statistics, as a fresh database does; PostgreSQL's plans depend on table
/// size, so the benchmark prints them at scale (BENCHMARKS.md).
#[tokio::test]
async fn the_log_viewer_queries_read_index_ranges() {
    use erp_bridge::server::store::sync_logs::{LogFilter, Position};
    let app = spawn_app(Backend::Sqlite).await;
    let tenant = crate::outbox::demo_tenant(&app.state.db).await;
    let text = |s: &str| Some(s.to_string());
    let since = Utc::now() - TimeDelta::days(3);
    let none = LogFilter::default;
    // Each shape and the index whose range it must read (the time index alone would answer
    // every one of them, by walking the tenant's whole log).
    #[rustfmt::skip]
    let shapes = [
        ("no filter", none(), "idx_sync_logs_time"),
        ("provider", LogFilter { provider: text("NetSuite"), ..none() }, "idx_sync_logs_provider"),
        ("entity type", LogFilter { entity_type: text("Payment"), ..none() }, "idx_sync_logs_entity_type"),
        ("direction", LogFilter { direction: text("FromExternal"), ..none() }, "idx_sync_logs_direction"),
        ("status", LogFilter { status: text("Failed"), ..none() }, "idx_sync_logs_status"),
        ("dates", LogFilter { from: Some(since), to: Some(Utc::now()), ..none() }, "idx_sync_logs_time"),
        ("status and dates", LogFilter { status: text("Failed"), from: Some(since), to: Some(Utc::now()), ..none() }, "idx_sync_logs_status"),
        ("record", LogFilter { record: text("rec-1"), ..none() }, "idx_sync_logs_external"),
    ];
    for (what, f, index) in shapes {
        for at in [
            Position::Offset(0),
            Position::Older(since, Uuid::max()),
            Position::Newer(since, Uuid::nil()),
        ] {
            let (page, count) = sync_logs::plans(&app.state.db, tenant, &f, 51, at)
                .await
                .expect("plans");
            // Counting the whole log may read any index of the tenant (it stops at the cap).
            let checked: &[&Vec<String>] = if what == "no filter" {
                &[&page]
            } else {
                &[&page, &count]
            };
            for plan in checked {
                assert!(
                    plan.iter().any(|l| l.contains(index)),
                    "{what} {at:?} reads {index}: {plan:?}"
                );
                for line in plan.iter().filter(|l| l.contains("integration_sync_logs")) {
                    assert!(line.starts_with("SEARCH"), "{what} {at:?}: {line}");
                    // A filter's index entered by tenant alone is a walk of the tenant's log.
                    assert!(
                        !line.ends_with("(tenant_id=?)") || line.contains("idx_sync_logs_time"),
                        "{what} {at:?}: {line}"
                    );
                }
            }
            if what == "record" {
                assert!(
                    page.iter().any(|l| l.contains("idx_sync_logs_record")),
                    "{page:?}"
                );
                assert!(
                    !page.iter().any(|l| l.contains("idx_sync_logs_time")),
                    "{page:?}"
                );
            } else {
                // One sort: of the page's own rows, once their ids are known.
                assert!(
                    page.iter().filter(|l| l.contains("TEMP B-TREE")).count() <= 1,
                    "{what} {at:?} sorts the log: {page:?}"
                );
            }
        }
    }
}
