//! Sign-in throttling state, one row per key (a hash of (account, source) or of a source alone).
//!
//! Every statement that decides runs in one transaction whose first write locks the row
//! (PostgreSQL re-checks a blocked `UPDATE`'s condition against the row it waited for; SQLite has
//! one writer), so parallel attempts are counted one after the other and none slips past a limit.
//! Times come from the caller (the database's clock, [`Db::now`]); the SQL does no date
//! arithmetic.

use super::{Db, StoreResult, Tx};
use crate::{on_conn, on_tx};
use chrono::{DateTime, TimeDelta, Utc};

/// What a reservation found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may go ahead; `count` is the key's count including it.
    Granted {
        /// Count after this attempt.
        count: i64,
    },
    /// Refused without trying, until `until`.
    Blocked {
        /// When the key may try again.
        until: DateTime<Utc>,
    },
}

/// Creates the key's row if it is new, inside `tx`.
async fn ensure(tx: &mut Tx, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO sign_in_throttle (key, count, window_started_at, updated_at) \
        VALUES ($1, 0, $2, $2) ON CONFLICT (key) DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql).bind(key).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn blocked_until(tx: &mut Tx, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let sql = "SELECT blocked_until FROM sign_in_throttle WHERE key = $1";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar::<_, Option<DateTime<Utc>>>(sql)
        .bind(key).fetch_optional(c).await)?
        .flatten(),
    )
}

/// Counts one more failure-in-waiting for an (account, source) key unless it is blocked. When the
/// count reaches `max_failures`, the key is blocked for `block_for(count)` from `now` — the
/// attempt that reaches the limit still goes ahead, and its success clears the block.
pub async fn reserve_failure(
    db: &Db,
    key: &str,
    now: DateTime<Utc>,
    max_failures: i64,
    block_for: impl Fn(i64) -> TimeDelta,
) -> StoreResult<Reservation> {
    let mut tx = db.begin().await?;
    ensure(&mut tx, key, now).await?;
    let sql = "UPDATE sign_in_throttle SET count = count + 1, updated_at = $2 \
        WHERE key = $1 AND (blocked_until IS NULL OR blocked_until <= $2) RETURNING count";
    let count = on_tx!(&mut tx, c => sqlx::query_scalar::<_, i64>(sql)
        .bind(key).bind(now).fetch_optional(c).await)?;
    let reservation = match count {
        Some(count) => {
            if count >= max_failures {
                let sql = "UPDATE sign_in_throttle SET blocked_until = $2 WHERE key = $1";
                let until = now + block_for(count);
                on_tx!(&mut tx, c => sqlx::query(sql).bind(key).bind(until)
                    .execute(c).await.map(|r| r.rows_affected()))?;
            }
            Reservation::Granted { count }
        }
        None => Reservation::Blocked {
            until: blocked_until(&mut tx, key).await?.unwrap_or(now),
        },
    };
    tx.commit().await?;
    Ok(reservation)
}

/// A success: the key's failures and block are forgotten.
pub async fn clear(db: &Db, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE sign_in_throttle SET count = 0, blocked_until = NULL, updated_at = $2 \
        WHERE key = $1";
    on_conn!(db.write(), p => sqlx::query(sql).bind(key).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Counts an attempt in a fixed window of `window` starting at the key's first attempt; refused
/// once more than `limit` attempts fall in the window.
pub async fn reserve_in_window(
    db: &Db,
    key: &str,
    now: DateTime<Utc>,
    window: TimeDelta,
    limit: i64,
) -> StoreResult<Reservation> {
    let mut tx = db.begin().await?;
    ensure(&mut tx, key, now).await?;
    let sql = "UPDATE sign_in_throttle SET \
            count = CASE WHEN window_started_at <= $3 THEN 1 ELSE count + 1 END, \
            window_started_at = CASE WHEN window_started_at <= $3 THEN $2 ELSE window_started_at END, \
            updated_at = $2 \
        WHERE key = $1 RETURNING count, window_started_at";
    let (count, started) = on_tx!(&mut tx, c => sqlx::query_as::<_, (i64, DateTime<Utc>)>(sql)
        .bind(key).bind(now).bind(now - window).fetch_one(c).await)?;
    tx.commit().await?;
    Ok(if count > limit {
        Reservation::Blocked {
            until: started + window,
        }
    } else {
        Reservation::Granted { count }
    })
}

/// Gives back one attempt of a window key (a successful sign-in does not count against its source).
pub async fn refund(db: &Db, key: &str) -> StoreResult<()> {
    let sql = "UPDATE sign_in_throttle SET count = count - 1 WHERE key = $1 AND count > 0";
    on_conn!(db.write(), p => sqlx::query(sql).bind(key).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes rows untouched since `before` that block nothing any more; returns how many.
pub async fn prune(
    db: &Db,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> StoreResult<u64> {
    let sql = "DELETE FROM sign_in_throttle WHERE key IN (SELECT key FROM sign_in_throttle \
        WHERE updated_at < $1 AND (blocked_until IS NULL OR blocked_until < $2) LIMIT $3)";
    Ok(
        on_conn!(db.write(), p => sqlx::query(sql).bind(before).bind(now).bind(limit)
        .execute(p).await.map(|r| r.rows_affected()))?,
    )
}
