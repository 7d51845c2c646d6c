//! NetSuite → erp-bridge, the pull: what changed in an account since the last pull, found by
//! SuiteQL watermark (reference § 4 "Incremental sync") and written to the inbox.
//!
//! Three streams, each with its own cursor in `integration_sync_checkpoints`: customers, the
//! transactions we follow (sales orders, customer payments) and `deletedrecord`. A stream's
//! cursor is the last row read, as `(modified, id)`; the next page asks for rows after it —
//! `modified > t OR (modified = t AND id > i)`, ordered by `(modified, id)` — so paging is by
//! key, never by offset: no 100,000-row cap, and no row skipped or repeated when rows change
//! between pages. The cursor advances after each page's rows are in the inbox, so a restart
//! resumes where the last stored page ended.
//!
//! Times are NetSuite's own text (`TO_CHAR(…, 'YYYY-MM-DD HH24:MI:SS')`) given back through
//! `TO_DATE` with the same format, never converted: SuiteQL compares in the account's time
//! zone (UNCONFIRMED by Oracle), and a round trip of its own text is right in any zone — except
//! in the hour a daylight-saving zone repeats when clocks go back, whose times are ambiguous
//! (a known limit: rows changed in that hour may be read late or, rarely, missed). Each
//! pull also looks back one page over the `OVERLAP` before the cursor, so a change committed
//! late with an earlier time is still found; the rows read twice are dropped by the inbox's
//! dedupe (event id = record, id, modification time and a digest of the row's values).

use chrono::{NaiveDateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use super::client::{Account, NsError};
use super::connector::{NetSuite, PROVIDER};
use crate::server::store::inbox::{self, InboxRow};
use crate::server::store::{checkpoints, Db};
use crate::server::time;

/// How much one pull of one stream reads.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Rows per SuiteQL page (NetSuite allows at most 1,000).
    pub page: u32,
    /// Pages per pull: a large backlog is read over several pulls, so one account's backlog
    /// never holds up the others; the cursor keeps the place.
    pub pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            page: 1000,
            pages: 20,
        }
    }
}
/// How far before its cursor each pull starts again.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(2);
/// Where a stream's first pull starts: a day back covers any account time zone.
const FIRST_LOOK_BACK: TimeDelta = TimeDelta::days(1);
const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// One table followed by watermark.
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    /// Its checkpoint's name.
    pub name: &'static str,
    table: &'static str,
    id: &'static str,
    modified: &'static str,
    /// More columns the inbox row keeps, and the rows wanted.
    columns: &'static str,
    filter: &'static str,
}

/// Changed customers.
pub const CUSTOMERS: Stream = Stream {
    name: "SuiteQL customer",
    table: "customer",
    id: "id",
    modified: "lastmodifieddate",
    columns: "",
    filter: "",
};
/// Changed sales orders (their status) and customer payments (what they pay).
pub const TRANSACTIONS: Stream = Stream {
    name: "SuiteQL transaction",
    table: "transaction",
    id: "id",
    modified: "lastmodifieddate",
    columns: ", type, status",
    filter: "type IN ('SalesOrd', 'CustPymt') AND ",
};
/// Deleted customers and sales orders (filtered by `deleteddate`, reference § "Deleted records").
pub const DELETIONS: Stream = Stream {
    name: "SuiteQL deletedrecord",
    table: "deletedrecord",
    id: "recordid",
    modified: "deleteddate",
    columns: ", type",
    filter: "type IN ('customer', 'salesorder') AND ",
};
/// Every stream, in the order they are pulled.
pub const STREAMS: [Stream; 3] = [CUSTOMERS, TRANSACTIONS, DELETIONS];

impl Stream {
    /// The page query; its parameters are the cursor's time (twice) and id.
    pub fn query(&self) -> String {
        let (t, id) = (self.modified, self.id);
        format!(
            "SELECT {id} AS id, TO_CHAR({t}, 'YYYY-MM-DD HH24:MI:SS') AS modified{columns} \
             FROM {table} WHERE {filter}({t} > TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') \
             OR ({t} = TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') AND {id} > ?)) ORDER BY {t}, {id}",
            columns = self.columns,
            table = self.table,
            filter = self.filter,
        )
    }

    /// The look-back page: rows of the overlap up to the cursor, newest first; its parameters
    /// are where the overlap starts and the cursor's time (twice) and id.
    pub fn look_back_query(&self) -> String {
        let (t, id) = (self.modified, self.id);
        format!(
            "SELECT {id} AS id, TO_CHAR({t}, 'YYYY-MM-DD HH24:MI:SS') AS modified{columns} \
             FROM {table} WHERE {filter}{t} >= TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') \
             AND ({t} < TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') \
             OR ({t} = TO_DATE(?, 'YYYY-MM-DD HH24:MI:SS') AND {id} <= ?)) ORDER BY {t} DESC, {id} DESC",
            columns = self.columns,
            table = self.table,
            filter = self.filter,
        )
    }

    /// The inbox's name for a row's record type (the record API's), and the operation.
    fn entity(
        &self,
        row: &std::collections::HashMap<String, String>,
    ) -> Option<(&'static str, &'static str)> {
        let kind = row.get("type").map(String::as_str);
        match (self.table, kind) {
            ("customer", _) => Some(("customer", "Update")),
            ("transaction", Some("SalesOrd")) => Some(("salesOrder", "Update")),
            ("transaction", Some("CustPymt")) => Some(("customerPayment", "Update")),
            ("deletedrecord", Some("customer")) => Some(("customer", "Delete")),
            ("deletedrecord", Some("salesorder")) => Some(("salesOrder", "Delete")),
            _ => None,
        }
    }
}

/// A stream's position: the last row read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Its modification time, as NetSuite wrote it.
    pub modified: String,
    /// Its id.
    pub id: i64,
}

impl Cursor {
    /// `2026-11-28 10:00:00|647`.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (modified, id) = text.split_once('|')?;
        NaiveDateTime::parse_from_str(modified, FORMAT).ok()?;
        Some(Cursor {
            modified: modified.to_string(),
            id: id.parse().ok()?,
        })
    }

    fn text(&self) -> String {
        format!("{}|{}", self.modified, self.id)
    }

    /// Where a pull's look-back starts: `OVERLAP` before this position.
    fn rewound(&self) -> Cursor {
        let at = NaiveDateTime::parse_from_str(&self.modified, FORMAT)
            .map(|t| (t - OVERLAP).format(FORMAT).to_string())
            .unwrap_or_else(|_| self.modified.clone());
        Cursor {
            modified: at,
            id: 0,
        }
    }
}

/// What one pull of one stream did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    /// Rows read.
    pub read: usize,
    /// Of them, new to the inbox.
    pub new: usize,
    /// Pages asked for.
    pub pages: usize,
}

/// Pulls one stream of a tenant's account into the inbox: first one page looking back over
/// the overlap (newest first, so a late commit near the cursor is found first; rows already
/// seen are dropped by the inbox), then forward from the cursor page by page, the cursor
/// advanced after each page. The look-back never moves the cursor nor counts against the page
/// budget, so a pull always makes progress however many rows share the overlap.
pub async fn pull(
    ns: &NetSuite,
    db: &Db,
    tenant_id: Uuid,
    acct: &Account,
    stream: &Stream,
    limits: Limits,
) -> Result<Pulled, String> {
    let stored = checkpoints::get(db, tenant_id, PROVIDER, stream.name)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|c| c.cursor)
        .and_then(|c| Cursor::parse(&c));
    let mut done = Pulled::default();
    if let Some(c) = &stored {
        let (from, id) = (c.rewound().modified, c.id.to_string());
        let params = [
            from.as_str(),
            c.modified.as_str(),
            c.modified.as_str(),
            id.as_str(),
        ];
        let page = match ns
            .client
            .suiteql(acct, &stream.look_back_query(), &params, limits.page, 0)
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(failed(db, tenant_id, stream, e).await),
        };
        done.pages += 1;
        done.read += page.items.len();
        let (rows, _) = inbox_rows(stream, acct, tenant_id, &page.items);
        done.new += inbox::insert_many(db, &rows)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut at = stored.clone().unwrap_or_else(|| Cursor {
        modified: (Utc::now() - FIRST_LOOK_BACK).format(FORMAT).to_string(),
        id: 0,
    });
    let query = stream.query();
    let mut forward = 0;
    loop {
        let id = at.id.to_string();
        let params = [at.modified.as_str(), at.modified.as_str(), id.as_str()];
        let page = match ns
            .client
            .suiteql(acct, &query, &params, limits.page, 0)
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(failed(db, tenant_id, stream, e).await),
        };
        forward += 1;
        done.pages += 1;
        done.read += page.items.len();
        let (rows, last) = inbox_rows(stream, acct, tenant_id, &page.items);
        done.new += inbox::insert_many(db, &rows)
            .await
            .map_err(|e| e.to_string())?;
        // The cursor moves on (or, for an empty page, stays: the pull still counts as done).
        let moved = last.filter(|l| position(l) > position(&at));
        let cursor = moved.clone().unwrap_or_else(|| at.clone());
        checkpoints::advance(
            db,
            tenant_id,
            PROVIDER,
            stream.name,
            &cursor.text(),
            time::now(),
        )
        .await
        .map_err(|e| e.to_string())?;
        match moved {
            Some(last) if page.items.len() >= limits.page as usize && forward < limits.pages => {
                at = last;
            }
            _ => break,
        }
    }
    Ok(done)
}

/// The inbox rows of a page, and the page's last position.
fn inbox_rows(
    stream: &Stream,
    acct: &Account,
    tenant_id: Uuid,
    items: &[std::collections::HashMap<String, String>],
) -> (Vec<InboxRow>, Option<Cursor>) {
    let now = time::now();
    let realm = acct.id.realm();
    let mut rows = Vec::with_capacity(items.len());
    let mut last = None;
    for item in items {
        let (Some(id), Some(modified)) = (item.get("id"), item.get("modified")) else {
            continue;
        };
        let Ok(number) = id.parse::<i64>() else {
            continue;
        };
        last = Some(Cursor {
            modified: modified.clone(),
            id: number,
        });
        let Some((entity, operation)) = stream.entity(item) else {
            continue;
        };
        let kind = if operation == "Delete" {
            "deleted"
        } else {
            "changed"
        };
        rows.push(InboxRow {
            id: Uuid::now_v7(),
            tenant_id,
            provider: PROVIDER.into(),
            external_event_id: format!(
                "suiteql:{realm}:{kind}:{entity}:{id}:{modified}:{}",
                digest(item)
            ),
            external_company_id: Some(realm.to_string()),
            event_type: Some(operation.into()),
            entity_type: Some(entity.into()),
            entity_id: Some(id.clone()),
            payload: Some(json!({ "source": "suiteql", "row": item }).to_string()),
            received_at: now,
            status: "Pending".into(),
        });
    }
    (rows, last)
}

/// A short digest of a row's values: two changes of one record within the same second (NetSuite
/// keeps whole seconds) that changed what we read are two events, while a row read again
/// unchanged (the look-back) is the same event.
fn digest(item: &std::collections::HashMap<String, String>) -> String {
    use sha2::Digest;
    let sorted: std::collections::BTreeMap<_, _> = item.iter().collect();
    let text = serde_json::to_string(&sorted).unwrap_or_default();
    let hash = sha2::Sha256::digest(text.as_bytes());
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn position(c: &Cursor) -> (NaiveDateTime, i64) {
    (
        NaiveDateTime::parse_from_str(&c.modified, FORMAT).unwrap_or_default(),
        c.id,
    )
}

async fn failed(db: &Db, tenant_id: Uuid, stream: &Stream, e: NsError) -> String {
    let why = e.to_string();
    if let Err(store) =
        checkpoints::failed(db, tenant_id, PROVIDER, stream.name, &why, time::now()).await
    {
        tracing::warn!(%tenant_id, error = %store, "recording a failed NetSuite pull failed");
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_refuses_what_it_did_not() {
        let c = Cursor {
            modified: "2026-11-28 10:00:05".into(),
            id: 647,
        };
        assert_eq!(Cursor::parse(&c.text()), Some(c.clone()));
        assert_eq!(Cursor::parse("2026-11-28T10:00:05Z|647"), None);
        assert_eq!(Cursor::parse("2026-11-28 10:00:05"), None);
        assert_eq!(
            c.rewound(),
            Cursor {
                modified: "2026-11-28 09:58:05".into(),
                id: 0
            }
        );
    }

    #[test]
    fn every_stream_asks_by_key_after_the_cursor_in_key_order() {
        for s in STREAMS {
            let q = s.query();
            assert_eq!(q.matches('?').count(), 3, "{q}");
            assert!(
                q.ends_with(&format!("ORDER BY {}, {}", s.modified, s.id)),
                "{q}"
            );
        }
        assert!(DELETIONS.query().contains("deleteddate >"));
        for s in STREAMS {
            let q = s.look_back_query();
            assert_eq!(q.matches('?').count(), 4, "{q}");
            assert!(
                q.ends_with(&format!("ORDER BY {} DESC, {} DESC", s.modified, s.id)),
                "{q}"
            );
        }
    }
}
