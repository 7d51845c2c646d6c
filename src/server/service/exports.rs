//! The audit export (IntegrationsManage): sync logs or audit events of a date range as CSV,
//! streamed a keyset page at a time, so memory stays flat whatever the range holds. Every cell
//! that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
//! prefixed with `'`.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use futures_util::stream::{self, Stream};

use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::store::exports::{self, Cursor};
use crate::server::store::Db;
use crate::server::time;

/// Rows read per page.
const PAGE: i64 = 1_000;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Every delivery attempt, skip and inbound change.
    SyncLogs,
    /// Who did what.
    Audit,
}

impl Export {
    /// The download's file name.
    pub fn file_name(self, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        let kind = match self {
            Export::SyncLogs => "sync-logs",
            Export::Audit => "audit-events",
        };
        let last = to - TimeDelta::days(1);
        format!(
            "{kind}-{}-to-{}.csv",
            from.format("%Y-%m-%d"),
            last.format("%Y-%m-%d")
        )
    }
}

/// `[from, to)` from the days a person gives (`to` included); the last 31 days by default.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let day = |field: &str, text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(|d| d.and_time(NaiveTime::MIN).and_utc())
            .map_err(|_| {
                AppError::BadRequest(format!("{field}: {text:?} is not a date (YYYY-MM-DD)."))
            })
    };
    let today = time::now().date_naive().and_time(NaiveTime::MIN).and_utc();
    let to = match given(to) {
        Some(t) => day("to", t)? + TimeDelta::days(1),
        None => today + TimeDelta::days(1),
    };
    let from = match given(from) {
        Some(f) => day("from", f)?,
        None => to - TimeDelta::days(31),
    };
    // A last day before the first is an empty range (a header alone), not a mistake to refuse.
    Ok((from, to.max(from)))
}

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// A cell a spreadsheet will not run as a formula.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// A small CSV file (a report) with the same formula guard as the exports.
pub fn csv_file(rows: Vec<Vec<String>>) -> Result<Vec<u8>, std::io::Error> {
    csv_bytes(rows)
}

fn csv_bytes(rows: Vec<Vec<String>>) -> Result<Vec<u8>, std::io::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row.iter().map(|c| cell(c)))
            .map_err(std::io::Error::other)?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn header(kind: Export) -> Vec<String> {
    let names: &[&str] = match kind {
        Export::SyncLogs => &[
            "started_at",
            "provider",
            "direction",
            "entity_type",
            "entity_id",
            "external_id",
            "event_type",
            "status",
            "error_message",
            "duration_ms",
            "attempt",
            "outbox_id",
            "log_id",
        ],
        Export::Audit => &[
            "created_at",
            "actor_kind",
            "actor_id",
            "action",
            "entity_type",
            "entity_id",
            "before",
            "after",
            "id",
        ],
    };
    names.iter().map(|s| s.to_string()).collect()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The next page as CSV rows, and where it ended (None: nothing more).
async fn page(
    db: &Db,
    tenant_id: uuid::Uuid,
    kind: Export,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Cursor,
) -> Result<(Vec<Vec<String>>, Cursor), std::io::Error> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    match kind {
        Export::SyncLogs => {
            let rows = exports::sync_logs_after(db, tenant_id, from, to, after, PAGE)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let next = rows.last().map(|r| (r.started_at, r.id));
            let out = rows
                .into_iter()
                .map(|r| {
                    vec![
                        stamp(r.started_at),
                        r.provider,
                        r.direction,
                        r.entity_type,
                        opt(r.entity_id),
                        opt(r.external_id),
                        opt(r.event_type),
                        r.status,
                        opt(r.error_message),
                        r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
                        (r.retry_count + 1).to_string(),
                        r.outbox_id.map(|o| o.to_string()).unwrap_or_default(),
                        r.id.to_string(),
                    ]
                })
                .collect();
            Ok((out, next))
        }
        Export::Audit => {
            let rows = exports::audit_after(db, tenant_id, from, to, after, PAGE)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let next = rows.last().map(|r| (r.created_at, r.id));
            let out = rows
                .into_iter()
                .map(|r| {
                    vec![
                        stamp(r.created_at),
                        r.actor_kind,
                        opt(r.actor_id),
                        r.action,
                        r.entity_type,
                        r.entity_id,
                        opt(r.before_json),
                        opt(r.after_json),
                        r.id.to_string(),
                    ]
                })
                .collect();
            Ok((out, next))
        }
    }
}

/// The export as a stream of CSV chunks: the header, then a chunk per page.
pub fn stream(
    db: Db,
    p: &Principal,
    kind: Export,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static, AppError> {
    p.require(Policy::IntegrationsManage)?;
    let tenant_id = p.tenant_id;
    // State: None before the header, Some(cursor) after; `done` once a short page was read.
    let start: (Option<Cursor>, bool) = (None, false);
    Ok(stream::unfold(start, move |(state, done)| {
        let db = db.clone();
        async move {
            if done {
                return None;
            }
            let Some(after) = state else {
                return Some((csv_bytes(vec![header(kind)]), (Some(None), false)));
            };
            match page(&db, tenant_id, kind, range, after).await {
                Ok((rows, next)) => {
                    let last = (rows.len() as i64) < PAGE;
                    Some((csv_bytes(rows), (Some(next), last)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export stopped");
                    Some((Err(e), (None, true)))
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_not() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("Acme, Inc."), "Acme, Inc.");
        let bytes = csv_bytes(vec![vec!["a,b".into(), "=1+1".into()]]).expect("csv");
        assert_eq!(String::from_utf8(bytes).expect("utf8"), "\"a,b\",'=1+1\n");
    }

    #[test]
    fn ranges_are_whole_days_with_the_last_included() {
        let (from, to) = range(Some("2026-11-01"), Some("2026-11-30")).expect("range");
        assert_eq!(stamp(from), "2026-11-01T00:00:00.000Z");
        assert_eq!(stamp(to), "2026-12-01T00:00:00.000Z");
        assert_eq!(
            Export::Audit.file_name(from, to),
            "audit-events-2026-11-01-to-2026-11-30.csv"
        );
        let (from, to) = range(Some("2026-12-01"), Some("2026-11-01")).expect("empty");
        assert_eq!(from, to, "nothing lies between");
        assert!(range(Some("yesterday"), None).is_err());
        let (from, to) = range(None, None).expect("default");
        assert_eq!(to - from, TimeDelta::days(31));
    }
}
