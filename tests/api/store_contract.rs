//! The store contract: the same assertions on SQLite and PostgreSQL.

use crate::both_backends;
use crate::helpers::{Backend, TestDb};
use erp_bridge::server::store::sign_in_throttle::{self, Reservation};
use erp_bridge::server::store::{api_tokens, audit, customers, tenants, users, StoreError};
use erp_bridge::server::time;
use uuid::Uuid;

both_backends!(
    timestamps_and_ids_round_trip_exactly,
    unique_constraints_surface_as_duplicates,
    sign_in_reservations_are_counted_one_at_a_time,
    api_tokens_are_usable_until_revoked_or_expired,
    customer_numbers_are_per_tenant,
    a_customer_user_must_belong_to_a_customer_of_its_tenant,
);

async fn new_tenant(db: &erp_bridge::server::store::Db, slug: &str) -> Uuid {
    let t = tenants::Tenant {
        id: Uuid::now_v7(),
        name: slug.into(),
        slug: slug.into(),
        created_at: time::now(),
    };
    let mut tx = db.begin().await.expect("tx");
    tenants::insert(&mut tx, &t).await.expect("tenant");
    tx.commit().await.expect("commit");
    t.id
}

fn user(tenant_id: Uuid, email: &str) -> users::UserRow {
    users::UserRow {
        id: Uuid::now_v7(),
        tenant_id,
        email: email.into(),
        display_name: email.into(),
        password_hash: "$argon2id$placeholder".into(),
        role: "Admin".into(),
        customer_id: None,
        is_active: true,
        failed_login_count: 0,
        locked_until: None,
        last_login_at: None,
        created_at: time::now(),
    }
}

async fn insert_user(
    db: &erp_bridge::server::store::Db,
    u: &users::UserRow,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await.expect("tx");
    users::insert(&mut tx, u).await?;
    tx.commit().await
}

async fn timestamps_and_ids_round_trip_exactly(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    let found = tenants::find(&db, tenant)
        .await
        .expect("find")
        .expect("exists");
    let u = user(tenant, "a@t1.example");
    insert_user(&db, &u).await.expect("insert");
    let back = users::find(&db, tenant, u.id)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(back.id, u.id);
    assert_eq!(
        back.created_at, u.created_at,
        "microsecond timestamps survive the round trip"
    );
    assert_eq!(found.slug, "t1");
    assert!(
        users::find(&db, Uuid::now_v7(), u.id)
            .await
            .expect("find")
            .is_none(),
        "scoped by tenant"
    );
}

async fn unique_constraints_surface_as_duplicates(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    insert_user(&db, &user(tenant, "same@t1.example"))
        .await
        .expect("first");
    let again = insert_user(&db, &user(tenant, "same@t1.example")).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
}

async fn sign_in_reservations_are_counted_one_at_a_time(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let now = db.now().await.expect("now");
    let block = |n: i64| chrono::TimeDelta::minutes(5 * n);
    // 40 parallel reservations of one key with a limit of 5: exactly 5 go ahead.
    let tries: Vec<_> = (0..40)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(
                async move { sign_in_throttle::reserve_failure(&db, "k", now, 5, block).await },
            )
        })
        .collect();
    let mut granted = Vec::new();
    let mut blocked = 0;
    for t in tries {
        match t.await.expect("task").expect("reserve") {
            Reservation::Granted { count } => granted.push(count),
            Reservation::Blocked { until } => {
                assert_eq!(until, now + block(5));
                blocked += 1;
            }
        }
    }
    granted.sort_unstable();
    assert_eq!(granted, vec![1, 2, 3, 4, 5]);
    assert_eq!(blocked, 35);
    // Once the block has passed, one more attempt goes ahead and blocks for longer.
    let later = now + block(5);
    assert_eq!(
        sign_in_throttle::reserve_failure(&db, "k", later, 5, block)
            .await
            .expect("reserve"),
        Reservation::Granted { count: 6 }
    );
    assert_eq!(
        sign_in_throttle::reserve_failure(&db, "k", later, 5, block)
            .await
            .expect("reserve"),
        Reservation::Blocked {
            until: later + block(6)
        }
    );
    // A success clears the key.
    sign_in_throttle::clear(&db, "k", later)
        .await
        .expect("clear");
    assert_eq!(
        sign_in_throttle::reserve_failure(&db, "k", later, 5, block)
            .await
            .expect("reserve"),
        Reservation::Granted { count: 1 }
    );
    // A window key counts attempts per window; a refund gives one back; the next window starts
    // again from one.
    let minute = chrono::TimeDelta::minutes(1);
    for n in 1..=3 {
        assert_eq!(
            sign_in_throttle::reserve_in_window(&db, "w", now, minute, 3)
                .await
                .expect("window"),
            Reservation::Granted { count: n }
        );
    }
    assert_eq!(
        sign_in_throttle::reserve_in_window(&db, "w", now, minute, 3)
            .await
            .expect("window"),
        Reservation::Blocked {
            until: now + minute
        }
    );
    sign_in_throttle::refund(&db, "w").await.expect("refund");
    sign_in_throttle::refund(&db, "w").await.expect("refund");
    assert_eq!(
        sign_in_throttle::reserve_in_window(&db, "w", now, minute, 3)
            .await
            .expect("window"),
        Reservation::Granted { count: 3 }
    );
    assert_eq!(
        sign_in_throttle::reserve_in_window(&db, "w", now + minute, minute, 3)
            .await
            .expect("window"),
        Reservation::Granted { count: 1 }
    );
    // Retention keeps blocked keys and drops stale ones.
    let pruned = sign_in_throttle::prune(&db, later + minute, later + minute, 100)
        .await
        .expect("prune");
    assert_eq!(pruned, 2, "the cleared key and the window key");
}

async fn api_tokens_are_usable_until_revoked_or_expired(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    let u = user(tenant, "a@t1.example");
    insert_user(&db, &u).await.expect("insert");
    let now = time::now();
    let token = |hash: &str, expires_at| api_tokens::ApiTokenRow {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        name: hash.into(),
        token_hash: hash.into(),
        token_prefix: "ebt_x".into(),
        role: "SalesRep".into(),
        created_by: u.id,
        created_at: now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
    };
    let live = token("live", None);
    let expired = token("expired", Some(now - chrono::TimeDelta::seconds(1)));
    api_tokens::insert(&db, &live).await.expect("insert");
    api_tokens::insert(&db, &expired).await.expect("insert");
    assert!(api_tokens::find_usable_by_hash(&db, "live", now)
        .await
        .expect("find")
        .is_some());
    assert!(api_tokens::find_usable_by_hash(&db, "expired", now)
        .await
        .expect("find")
        .is_none());
    assert!(
        !api_tokens::revoke(&db, Uuid::now_v7(), live.id, now)
            .await
            .expect("revoke"),
        "other tenant: no-op"
    );
    assert!(api_tokens::revoke(&db, tenant, live.id, now)
        .await
        .expect("revoke"));
    assert!(api_tokens::find_usable_by_hash(&db, "live", now)
        .await
        .expect("find")
        .is_none());
    assert_eq!(api_tokens::list(&db, tenant).await.expect("list").len(), 2);
}

async fn customer_numbers_are_per_tenant(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let (a, b) = (new_tenant(&db, "a").await, new_tenant(&db, "b").await);
    let mut tx = db.begin().await.expect("tx");
    let new = |tenant_id| customers::NewCustomer {
        tenant_id,
        name: "C".into(),
        email: None,
        phone: None,
    };
    let (_, a1) = customers::insert(&mut tx, &new(a), time::now())
        .await
        .expect("a1");
    let (_, a2) = customers::insert(&mut tx, &new(a), time::now())
        .await
        .expect("a2");
    let (b1_id, b1) = customers::insert(&mut tx, &new(b), time::now())
        .await
        .expect("b1");
    audit::record(
        &mut tx,
        &audit::AuditEvent {
            tenant_id: Some(a),
            actor_kind: "System".into(),
            actor_id: None,
            action: "test".into(),
            entity_type: "Customer".into(),
            entity_id: "x".into(),
            order_id: None,
            before_json: None,
            after_json: None,
            request_id: None,
            created_at: time::now(),
        },
    )
    .await
    .expect("audit");
    tx.commit().await.expect("commit");
    assert_eq!((a1, a2, b1), (1001, 1002, 1001));
    assert_eq!(
        customers::find_id_by_number(&db, b, 1001)
            .await
            .expect("find"),
        Some(b1_id)
    );
    assert_eq!(
        customers::find_name(&db, a, b1_id).await.expect("find"),
        None,
        "scoped by tenant"
    );
}

async fn a_customer_user_must_belong_to_a_customer_of_its_tenant(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let (a, b) = (new_tenant(&db, "a").await, new_tenant(&db, "b").await);
    let mut tx = db.begin().await.expect("tx");
    let (b_customer, _) = customers::insert(
        &mut tx,
        &customers::NewCustomer {
            tenant_id: b,
            name: "B's".into(),
            email: None,
            phone: None,
        },
        time::now(),
    )
    .await
    .expect("customer");
    tx.commit().await.expect("commit");
    let mut no_customer = user(a, "c1@a.example");
    no_customer.role = "Customer".into();
    assert!(
        insert_user(&db, &no_customer).await.is_err(),
        "Customer role without a customer"
    );
    let mut cross_tenant = user(a, "c2@a.example");
    cross_tenant.role = "Customer".into();
    cross_tenant.customer_id = Some(b_customer);
    assert!(
        insert_user(&db, &cross_tenant).await.is_err(),
        "customer of another tenant"
    );
}

both_backends!(batched_sync_logs_read_back_exactly_like_single_ones);

async fn batched_sync_logs_read_back_exactly_like_single_ones(backend: Backend) {
    use erp_bridge::server::store::sync_logs::{self, SyncLogRow};
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    let log = |status: &str, outbox: Option<Uuid>| SyncLogRow {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        provider: "QuickBooks".into(),
        entity_type: "Order".into(),
        entity_id: Some("o-1".into()),
        external_id: None,
        event_type: Some("OrderPaid".into()),
        outbox_id: outbox,
        direction: "ToExternal".into(),
        status: status.into(),
        error_message: Some("it's \"quoted\"".into()),
        request_payload: Some("{\"a\":1}".into()),
        response_payload: None,
        started_at: time::now(),
        completed_at: Some(time::now() + chrono::TimeDelta::microseconds(1500)),
        duration_ms: Some(2),
        retry_count: 3,
        correlation_id: None,
    };
    let batch = vec![log("Completed", Some(Uuid::now_v7())), log("Failed", None)];
    let mut tx = db.begin().await.expect("tx");
    sync_logs::insert_many(&mut tx, &batch)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    for expected in &batch {
        let got = sync_logs::get(&db, tenant, expected.id)
            .await
            .expect("get")
            .expect("row");
        assert_eq!(format!("{got:?}"), format!("{expected:?}"));
    }
}

both_backends!(oauth_states_are_single_use_bound_and_expire);

async fn consumed(
    db: &erp_bridge::server::store::Db,
    p: &erp_bridge::server::auth::Principal,
    provider: erp_bridge::domain::connection::Provider,
    state: &str,
) -> Result<(), erp_bridge::server::service::oauth_state::StateError> {
    erp_bridge::server::service::oauth_state::consume(db, p, provider, state)
        .await
        .expect("db")
}

async fn oauth_states_are_single_use_bound_and_expire(backend: Backend) {
    use erp_bridge::domain::connection::Provider;
    use erp_bridge::server::auth::{Actor, Principal};
    use erp_bridge::server::service::oauth_state::{self, StateError};
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    let other_tenant = new_tenant(&db, "t2").await;
    let (a, b) = (user(tenant, "a@t1.example"), user(tenant, "b@t1.example"));
    insert_user(&db, &a).await.expect("a");
    insert_user(&db, &b).await.expect("b");
    let as_user = |tenant_id, id| Principal {
        tenant_id,
        actor: Actor::User(id),
        role: erp_bridge::domain::Role::Admin,
        customer_id: None,
    };
    let qbo = Provider::QuickBooks;

    let state = oauth_state::issue(&db, &as_user(tenant, a.id), qbo)
        .await
        .expect("issue");
    assert_eq!(
        consumed(&db, &as_user(tenant, a.id), qbo, &state).await,
        Ok(())
    );
    assert_eq!(
        consumed(&db, &as_user(tenant, a.id), qbo, &state).await,
        Err(StateError::Unknown),
        "single use"
    );
    assert_eq!(
        consumed(&db, &as_user(tenant, a.id), qbo, "forged").await,
        Err(StateError::Unknown)
    );

    let state = oauth_state::issue(&db, &as_user(tenant, a.id), qbo)
        .await
        .expect("issue");
    assert_eq!(
        consumed(&db, &as_user(tenant, b.id), qbo, &state).await,
        Err(StateError::WrongOwner)
    );
    let state = oauth_state::issue(&db, &as_user(tenant, a.id), qbo)
        .await
        .expect("issue");
    assert_eq!(
        consumed(&db, &as_user(other_tenant, a.id), qbo, &state).await,
        Err(StateError::WrongOwner)
    );
    let state = oauth_state::issue(&db, &as_user(tenant, a.id), qbo)
        .await
        .expect("issue");
    assert_eq!(
        consumed(&db, &as_user(tenant, a.id), Provider::NetSuite, &state).await,
        Err(StateError::WrongOwner)
    );

    let state = oauth_state::issue(&db, &as_user(tenant, a.id), qbo)
        .await
        .expect("issue");
    erp_bridge::on_conn!(db.write(), p => sqlx::query("UPDATE oauth_states SET expires_at = $1")
        .bind(time::now() - chrono::TimeDelta::seconds(1)).execute(p).await.map(|_| ()))
    .expect("age it");
    assert_eq!(
        consumed(&db, &as_user(tenant, a.id), qbo, &state).await,
        Err(StateError::Expired)
    );
    let stored: i64 = erp_bridge::on_conn!(db.read(), p => sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states WHERE state_hash = $1")
        .bind(&state).fetch_one(p).await).expect("count");
    assert_eq!(
        stored, 0,
        "only hashes are stored, and used states are gone"
    );
}

both_backends!(tokens_are_sealed_at_rest_and_disconnect_deletes_them);

async fn tokens_are_sealed_at_rest_and_disconnect_deletes_them(backend: Backend) {
    use erp_bridge::domain::connection::Provider;
    use erp_bridge::server::crypto::{Cipher, DEMO_MASTER_KEY};
    use erp_bridge::server::service::tokens::{self, TokenSet};
    use erp_bridge::server::store::{connections, tokens as token_store};
    use secrecy::{ExposeSecret, SecretString};
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let tenant = new_tenant(&db, "t1").await;
    let cipher = Cipher::from_base64("k7", &SecretString::from(DEMO_MASTER_KEY)).expect("cipher");
    let set = || TokenSet {
        access_token: SecretString::from("access-plain-123"),
        refresh_token: SecretString::from("refresh-plain-456"),
        access_expires_at: time::now() + chrono::TimeDelta::hours(1),
        refresh_expires_at: None,
    };
    let none = tokens::save(&db, &cipher, tenant, Provider::QuickBooks, &set()).await;
    assert_eq!(
        none.err(),
        Some(erp_bridge::error::AppError::NotFound),
        "no connection yet"
    );
    let company = connections::ConnectedCompany {
        provider: "QuickBooks",
        external_company_id: "123",
        company_name: "C",
        connected_by: "t",
    };
    connections::upsert_connected(&db, tenant, &company, time::now())
        .await
        .expect("connect");
    tokens::save(&db, &cipher, tenant, Provider::QuickBooks, &set())
        .await
        .expect("save");
    let sealed = token_store::load(&db, tenant, "QuickBooks")
        .await
        .expect("load")
        .expect("row");
    let stored = format!("{sealed:?}");
    assert!(
        !stored.contains("access-plain-123") && !stored.contains("refresh-plain-456"),
        "{stored}"
    );
    assert_eq!(sealed.encryption_key_id.as_deref(), Some("k7"));
    assert!(sealed
        .access_token_encrypted
        .as_deref()
        .is_some_and(|v| v.starts_with("k7:")));
    let opened = tokens::load(&db, &cipher, tenant, Provider::QuickBooks)
        .await
        .expect("open")
        .expect("tokens");
    assert_eq!(opened.access_token.expose_secret(), "access-plain-123");
    assert_eq!(opened.refresh_token.expose_secret(), "refresh-plain-456");
    assert!(
        token_store::disconnect(&db, tenant, "QuickBooks", time::now())
            .await
            .expect("disconnect")
    );
    assert!(tokens::load(&db, &cipher, tenant, Provider::QuickBooks)
        .await
        .expect("open")
        .is_none());
    let view = connections::worker_view(&db, tenant, "QuickBooks")
        .await
        .expect("view")
        .expect("row kept");
    assert_eq!(
        (view.status.as_str(), view.external_company_id.as_deref()),
        ("NotConnected", None),
        "the row stays, the company is released for another tenant"
    );
    assert!(connections::tenant_for_company(&db, "QuickBooks", "123")
        .await
        .expect("routing")
        .is_none());
}
