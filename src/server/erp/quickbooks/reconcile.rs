//! What the reconciliation report reads from QuickBooks, in as few calls as Intuit's metering of
//! reads allows (reference § 9): the invoices dated in the range, 1,000 per query, then — in
//! queries of up to 100 ids — those our mappings name that the range did not return (an order
//! invoiced later than it was placed, or an invoice deleted there); and the customers, 100 ids or
//! names per query.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

use super::adapter::INVOICE_MARKER_PREFIX;
use super::client::{quote, QboError};
use super::connector::QuickBooks;
use super::tokens::AccessError;

/// Largest page Intuit serves.
const PAGE: usize = 1000;
/// Ids per `Id IN (…)` query.
const IDS_PER_QUERY: usize = 100;

/// Why the invoices could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No working connection.
    #[error("{0}")]
    Access(#[from] AccessError),
    /// QuickBooks refused or failed.
    #[error("{0}")]
    Qbo(#[from] QboError),
}

/// The records read, the company they came from, and the calls it took.
#[derive(Debug)]
pub struct Records {
    /// The realm.
    pub realm: String,
    /// The documents.
    pub docs: Vec<Value>,
    /// Calls made.
    pub calls: i64,
}

/// The order our marker in an invoice's PrivateNote names (a void keeps the note after "Voided").
pub fn marker_order(invoice: &Value) -> Option<Uuid> {
    let note = invoice["PrivateNote"].as_str()?;
    let at = note.find(INVOICE_MARKER_PREFIX)? + INVOICE_MARKER_PREFIX.len();
    note.get(at..at + 36)?.parse().ok()
}

impl QuickBooks {
    /// The tenant's connected company's invoices dated `from`..=`to`, plus those of `mapped`
    /// (invoice ids) the range did not include. An id QuickBooks does not return is gone there.
    pub async fn invoices_for_reconciliation(
        &self,
        tenant_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        mapped: &HashSet<String>,
    ) -> Result<Records, ReadError> {
        let access = self.access(tenant_id).await?;
        let (realm, token) = (access.realm, access.token);
        let mut docs: Vec<Value> = Vec::new();
        let mut calls = 0;
        for page in 0.. {
            let stmt = format!(
                "select * from Invoice where TxnDate >= '{from}' and TxnDate <= '{to}' \
                 orderby Id startposition {} maxresults {PAGE}",
                page * PAGE + 1
            );
            let found = self.client.query(&realm, &token, &stmt).await?;
            calls += 1;
            let rows = found["Invoice"].as_array().cloned().unwrap_or_default();
            let last = rows.len() < PAGE;
            docs.extend(rows);
            if last {
                break;
            }
        }
        let seen: HashSet<String> = docs
            .iter()
            .filter_map(|d| d["Id"].as_str().map(str::to_string))
            .collect();
        let mut rest: Vec<&String> = mapped.iter().filter(|id| !seen.contains(*id)).collect();
        rest.sort();
        for chunk in rest.chunks(IDS_PER_QUERY) {
            let ids: Vec<String> = chunk.iter().map(|id| quote(id)).collect();
            let stmt = format!(
                "select * from Invoice where Id in ({}) maxresults {PAGE}",
                ids.join(", ")
            );
            let found = self.client.query(&realm, &token, &stmt).await?;
            calls += 1;
            docs.extend(found["Invoice"].as_array().cloned().unwrap_or_default());
        }
        Ok(Records { realm, docs, calls })
    }

    /// The tenant's connected company's customers with the ids `mapped` (active or not: a
    /// customer "deleted" there is made inactive, and queries return only active ones unless
    /// asked) and the active ones whose DisplayName is one of `names`.
    pub async fn customers_for_reconciliation(
        &self,
        tenant_id: Uuid,
        mapped: &[String],
        names: &[String],
    ) -> Result<Records, ReadError> {
        let access = self.access(tenant_id).await?;
        let (realm, token) = (access.realm, access.token);
        let mut docs: Vec<Value> = Vec::new();
        let mut calls = 0;
        let mut statements = Vec::new();
        for chunk in mapped.chunks(IDS_PER_QUERY) {
            let ids: Vec<String> = chunk.iter().map(|id| quote(id)).collect();
            statements.push(format!(
                "select * from Customer where Active in (true, false) and Id in ({}) maxresults {PAGE}",
                ids.join(", ")
            ));
        }
        for chunk in names.chunks(IDS_PER_QUERY) {
            let names: Vec<String> = chunk.iter().map(|n| quote(n)).collect();
            statements.push(format!(
                "select * from Customer where DisplayName in ({}) maxresults {PAGE}",
                names.join(", ")
            ));
        }
        for stmt in statements {
            let found = self.client.query(&realm, &token, &stmt).await?;
            calls += 1;
            docs.extend(found["Customer"].as_array().cloned().unwrap_or_default());
        }
        Ok(Records { realm, docs, calls })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_marker_names_the_order_even_after_a_void() {
        let id = Uuid::from_u128(42);
        for note in [
            format!("erp-bridge order {id}"),
            format!("Voided erp-bridge order {id}"),
        ] {
            assert_eq!(marker_order(&json!({ "PrivateNote": note })), Some(id));
        }
        assert_eq!(
            marker_order(&json!({ "PrivateNote": "typed by hand" })),
            None
        );
        assert_eq!(marker_order(&json!({})), None);
    }
}
