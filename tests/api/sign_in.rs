//! Sign-in under hostile input: parallel guesses, strangers locking an Admin out, account
//! enumeration, floods from one source, and the redirect after sign-in.

use crate::both_backends;
use crate::helpers::{client, demo_email, spawn_app_with, Backend, TestApp};
use erp_bridge::domain::Role;
use erp_bridge::server::demo::DEMO_PASSWORD;
use erp_bridge::server::http::source::TrustedProxies;

both_backends!(
    parallel_guesses_cannot_pass_the_lockout,
    a_stranger_cannot_lock_the_admin_out,
    unknown_and_known_accounts_answer_alike,
    one_source_cannot_flood_sign_in,
    the_next_page_stays_on_this_site,
);

/// Posts the JSON sign-in from `source` (the test app trusts 127.0.0.1 as its proxy).
async fn attempt(app: &TestApp, source: &str, email: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.url("/auth/login"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("x-forwarded-for", source)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("request")
}

fn behind_proxy(s: &mut erp_bridge::server::startup::Settings) {
    s.trusted_proxies = TrustedProxies::parse("127.0.0.1").expect("parses");
}

async fn parallel_guesses_cannot_pass_the_lockout(backend: Backend) {
    let app = std::sync::Arc::new(
        spawn_app_with(backend, |s| {
            behind_proxy(s);
            s.login_source_limit_per_minute = 10_000;
        })
        .await,
    );
    let admin = demo_email(Role::Admin);
    let guesses: Vec<_> = (0..300)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                attempt(&app, "198.51.100.7", admin, &format!("guess-{i}"))
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for g in guesses {
        *statuses.entry(g.await.expect("task")).or_insert(0) += 1;
    }
    assert_eq!(
        statuses.get(&401).copied(),
        Some(5),
        "exactly five guesses were checked: {statuses:?}"
    );
    assert_eq!(statuses.get(&429).copied(), Some(295), "{statuses:?}");
    let right = attempt(&app, "198.51.100.7", admin, DEMO_PASSWORD).await;
    assert_eq!(
        right.status(),
        429,
        "the right password is refused from the blocked source too"
    );
}

async fn a_stranger_cannot_lock_the_admin_out(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        behind_proxy(s);
        s.login_max_failures = 3;
    })
    .await;
    let admin = demo_email(Role::Admin);
    for _ in 0..10 {
        attempt(&app, "198.51.100.7", admin, "not-the-password").await;
    }
    assert_eq!(
        attempt(&app, "198.51.100.7", admin, DEMO_PASSWORD)
            .await
            .status(),
        429,
        "the stranger's source is blocked"
    );
    let res = attempt(&app, "203.0.113.5", admin, DEMO_PASSWORD).await;
    assert_eq!(res.status(), 200, "the Admin, elsewhere, signs in");
    // An address the client wrote itself, left of the proxy's, proves nothing: a direct caller's
    // X-Forwarded-For is ignored when it does not come from a trusted proxy.
    let direct = spawn_app_with(backend, |s| s.login_max_failures = 3).await;
    for i in 0..3 {
        attempt(&direct, &format!("192.0.2.{i}"), admin, "nope").await;
    }
    assert_eq!(
        attempt(&direct, "192.0.2.99", admin, DEMO_PASSWORD)
            .await
            .status(),
        429,
        "without a trusted proxy every attempt is from 127.0.0.1, whatever the header says"
    );
}

async fn unknown_and_known_accounts_answer_alike(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        behind_proxy(s);
        s.login_max_failures = 4;
    })
    .await;
    let mut answers = Vec::new();
    for email in [demo_email(Role::SalesRep), "nobody-here@demo.example"] {
        let mut seen = Vec::new();
        for _ in 0..6 {
            let res = attempt(&app, "198.51.100.20", email, "wrong-password").await;
            let retry_after = res.headers().contains_key("retry-after");
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.expect("json");
            seen.push((status, retry_after, body["error"]["code"].clone()));
        }
        answers.push(seen);
    }
    assert_eq!(
        answers[0], answers[1],
        "a stranger cannot tell which email exists"
    );
    let statuses: Vec<u16> = answers[0].iter().map(|(s, _, _)| *s).collect();
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429]);
}

async fn one_source_cannot_flood_sign_in(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        behind_proxy(s);
        s.login_source_limit_per_minute = 10;
    })
    .await;
    // Successes do not count against their source.
    for _ in 0..15 {
        let res = attempt(
            &app,
            "198.51.100.30",
            demo_email(Role::Admin),
            DEMO_PASSWORD,
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let mut statuses = Vec::new();
    for i in 0..12 {
        let res = attempt(
            &app,
            "198.51.100.30",
            &format!("random-{i}@flood.example"),
            "guess-guess-guess",
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // IPv6 callers are one source per /64.
    for i in 0..10 {
        attempt(
            &app,
            &format!("2001:db8:5:6::{i:x}"),
            "x@flood.example",
            "guess",
        )
        .await;
    }
    assert_eq!(
        attempt(&app, "2001:db8:5:6:ffff::1", "y@flood.example", "guess")
            .await
            .status(),
        429
    );
    // Another source is unaffected.
    let res = attempt(&app, "203.0.113.77", demo_email(Role::Admin), DEMO_PASSWORD).await;
    assert_eq!(res.status(), 200);
}

async fn the_next_page_stays_on_this_site(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    for (next, expected) in [
        ("/orders?page=2", "/orders?page=2"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let res = client()
            .post(app.url("/auth/login"))
            .header("origin", &app.base)
            .form(&[
                ("email", demo_email(Role::Admin)),
                ("password", DEMO_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], expected, "next={next:?}");
    }
}
