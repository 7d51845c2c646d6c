//! The persisted circuit breaker's state per (tenant, provider): shared by every process and
//! surviving restarts. The decisions live in `server::outbox::breaker`; this file stores them.

use super::{Db, StoreResult};
use crate::on_conn;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A breaker row.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct HealthRow {
    /// `Closed`, `Open` or `HalfOpen`.
    pub state: String,
    /// Retryable failures in a row.
    pub consecutive_failures: i64,
    /// Times opened since last closed (the cool-down grows with it).
    pub open_count: i64,
    /// Deliveries paused until.
    pub open_until: Option<DateTime<Utc>>,
    /// Last failure.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Last error.
    pub last_error: Option<String>,
}

impl HealthRow {
    /// A healthy provider.
    pub fn closed() -> Self {
        HealthRow {
            state: "Closed".into(),
            consecutive_failures: 0,
            open_count: 0,
            open_until: None,
            last_failure_at: None,
            last_error: None,
        }
    }
}

/// The breaker row (a closed one when none is stored).
pub async fn get(db: &Db, tenant_id: Uuid, provider: &str) -> StoreResult<HealthRow> {
    let sql =
        "SELECT state, consecutive_failures, open_count, open_until, last_failure_at, last_error \
        FROM integration_provider_health WHERE tenant_id = $1 AND provider = $2";
    let row = on_conn!(db.read(), p => sqlx::query_as::<_, HealthRow>(sql).bind(tenant_id).bind(provider).fetch_optional(p).await)?;
    Ok(row.unwrap_or_else(HealthRow::closed))
}

/// Stores the breaker row.
pub async fn put(
    db: &Db,
    tenant_id: Uuid,
    provider: &str,
    h: &HealthRow,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO integration_provider_health (tenant_id, provider, state, consecutive_failures, open_count, \
        open_until, last_failure_at, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
        ON CONFLICT (tenant_id, provider) DO UPDATE SET state = excluded.state, \
        consecutive_failures = excluded.consecutive_failures, open_count = excluded.open_count, \
        open_until = excluded.open_until, last_failure_at = excluded.last_failure_at, \
        last_error = excluded.last_error, updated_at = excluded.updated_at";
    on_conn!(db.write(), p => sqlx::query(sql)
        .bind(tenant_id).bind(provider).bind(&h.state).bind(h.consecutive_failures).bind(h.open_count)
        .bind(h.open_until).bind(h.last_failure_at).bind(&h.last_error).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
