//! The dashboard's health of one ERP connection (IntegrationsView): sync outcomes per hour over
//! 24 hours, webhook events per day over 7 days, the last success and failure per entity type,
//! and credential failures. Every figure is the tenant's own.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::domain::connection::{Bucket, EntityHealth, Provider, ProviderHealth};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::{dashboard, Db};
use crate::server::time;

fn bucket(start: DateTime<Utc>, counts: &[(String, i64)], ok: &[&str], failed: &[&str]) -> Bucket {
    let sum = |names: &[&str]| {
        counts
            .iter()
            .filter(|(s, _)| names.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    let all: i64 = counts.iter().map(|(_, n)| n).sum();
    let (ok, failed) = (sum(ok), sum(failed));
    Bucket {
        start,
        ok,
        failed,
        other: all - ok - failed,
    }
}

/// The health of `provider` for the caller's tenant.
pub async fn health(db: &Db, p: &Principal, provider: &str) -> Result<ProviderHealth, AppError> {
    p.require(Policy::IntegrationsView)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    let name = provider.as_str();
    let now = time::now();
    let hour = now
        .duration_trunc(TimeDelta::hours(1))
        .map_err(|e| crate::server::service::errors::internal(format!("clock: {e}")))?;
    let mut hourly = Vec::with_capacity(24);
    for i in (0..24).rev() {
        let start = hour - TimeDelta::hours(i);
        let counts =
            dashboard::log_outcomes(db, p.tenant_id, name, start, start + TimeDelta::hours(1))
                .await
                .map_err(store)?;
        hourly.push(bucket(start, &counts, &["Completed"], &["Failed"]));
    }
    let day = now
        .duration_trunc(TimeDelta::days(1))
        .map_err(|e| crate::server::service::errors::internal(format!("clock: {e}")))?;
    let mut webhooks_daily = Vec::with_capacity(7);
    for i in (0..7).rev() {
        let start = day - TimeDelta::days(i);
        let counts =
            dashboard::inbox_outcomes(db, p.tenant_id, name, start, start + TimeDelta::days(1))
                .await
                .map_err(store)?;
        webhooks_daily.push(bucket(
            start,
            &counts,
            &["Completed", "Skipped"],
            &["Failed"],
        ));
    }
    let since_day = now - TimeDelta::hours(24);
    let recent = dashboard::inbox_outcomes(
        db,
        p.tenant_id,
        name,
        since_day,
        now + TimeDelta::seconds(1),
    )
    .await
    .map_err(store)?;
    let recent = bucket(since_day, &recent, &["Completed", "Skipped"], &["Failed"]);
    let mut entities: Vec<EntityHealth> = Vec::new();
    for (entity_type, status, at) in
        dashboard::entity_latest(db, p.tenant_id, name, now - TimeDelta::days(7))
            .await
            .map_err(store)?
    {
        let row = match entities.iter_mut().find(|e| e.entity_type == entity_type) {
            Some(row) => row,
            None => {
                entities.push(EntityHealth {
                    entity_type: entity_type.clone(),
                    last_success: None,
                    last_failure: None,
                });
                entities
                    .last_mut()
                    .ok_or_else(|| crate::server::service::errors::internal("empty"))?
            }
        };
        if status == "Completed" {
            row.last_success = Some(at);
        } else {
            row.last_failure = Some(at);
        }
    }
    entities.sort_by(|a, b| a.entity_type.cmp(&b.entity_type));
    let auth_failures_24h = dashboard::auth_failures(db, p.tenant_id, name, since_day)
        .await
        .map_err(store)?;
    Ok(ProviderHealth {
        provider,
        hourly,
        webhooks_daily,
        entities,
        webhooks_24h: recent.ok + recent.failed + recent.other,
        webhooks_ok_24h: recent.ok,
        auth_failures_24h,
    })
}

/// The health of every ERP the tenant has connected (or had connected), in provider order.
pub async fn health_all(db: &Db, p: &Principal) -> Result<Vec<ProviderHealth>, AppError> {
    p.require(Policy::IntegrationsView)?;
    let rows = crate::server::store::connections::list(db, p.tenant_id)
        .await
        .map_err(store)?;
    let mut out = Vec::new();
    for provider in Provider::ALL {
        if rows.iter().any(|r| r.provider == provider.as_str()) {
            out.push(health(db, p, provider.as_str()).await?);
        }
    }
    Ok(out)
}
