//! The reconciliation report (issue 12): for a date range, every order and customer of ours
//! compared with what the ERP holds — each difference a row a person can act on (re-send, adopt the ERP's
//! record as the mapping, or dismiss), so the books are shown to reconcile rather than assumed
//! to.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which of our records a row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ReconEntity {
    /// An order and its invoice.
    Order,
    /// A customer and the ERP's customer record.
    Customer,
}

/// A kind of difference between our records and the ERP's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum DriftKind {
    /// Should be in the ERP and is not (never sent, or its record was deleted there).
    MissingThere,
    /// The ERP holds a record of ours (by our marker) that we do not have.
    MissingHere,
    /// The invoice's total is not the order's.
    TotalDiffers,
    /// The invoice's open balance is not what the customer still owes us.
    BalanceDiffers,
    /// Several live invoices carry the order's number.
    DuplicateDocNumber,
    /// The ERP holds the order's invoice (our marker) but it is not mapped.
    Unmapped,
    /// The invoice was voided in the ERP; the order stands here.
    VoidedThere,
    /// The order is cancelled here; its invoice is still open in the ERP.
    OpenThere,
    /// The customer's name or email in the ERP is not ours.
    DetailsDiffer,
    /// The customer was made inactive (QuickBooks' "delete") in the ERP; it stands here.
    InactiveThere,
}

impl DriftKind {
    /// Every kind, in the order the report lists them.
    pub const ALL: [DriftKind; 10] = [
        DriftKind::MissingThere,
        DriftKind::Unmapped,
        DriftKind::TotalDiffers,
        DriftKind::BalanceDiffers,
        DriftKind::OpenThere,
        DriftKind::VoidedThere,
        DriftKind::DetailsDiffer,
        DriftKind::InactiveThere,
        DriftKind::DuplicateDocNumber,
        DriftKind::MissingHere,
    ];

    /// The stable code (CSV, keys).
    pub fn code(self) -> &'static str {
        match self {
            DriftKind::MissingThere => "missing_there",
            DriftKind::MissingHere => "missing_here",
            DriftKind::TotalDiffers => "total_differs",
            DriftKind::BalanceDiffers => "balance_differs",
            DriftKind::DuplicateDocNumber => "duplicate_doc_number",
            DriftKind::Unmapped => "unmapped",
            DriftKind::VoidedThere => "voided_there",
            DriftKind::OpenThere => "open_there",
            DriftKind::DetailsDiffer => "details_differ",
            DriftKind::InactiveThere => "inactive_there",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            DriftKind::MissingThere => "Missing in the ERP",
            DriftKind::MissingHere => "Missing here",
            DriftKind::TotalDiffers => "Total differs",
            DriftKind::BalanceDiffers => "Balance differs",
            DriftKind::DuplicateDocNumber => "Duplicate invoice number",
            DriftKind::Unmapped => "Not mapped",
            DriftKind::VoidedThere => "Voided in the ERP",
            DriftKind::OpenThere => "Cancelled here, open there",
            DriftKind::DetailsDiffer => "Details differ",
            DriftKind::InactiveThere => "Inactive in the ERP",
        }
    }
}

/// What a person can do about a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ReconAction {
    /// Queue the record again from its current state (creates, amends, voids or posts what is
    /// missing; a mapping whose ERP record is gone is forgotten first).
    Resend,
    /// Record the ERP's record (an invoice carrying our marker, a customer of our name) as the
    /// mapping.
    Adopt,
    /// Accept the difference: the row is no longer listed.
    Dismiss,
}

impl ReconAction {
    /// What a button says.
    pub fn label(self) -> &'static str {
        match self {
            ReconAction::Resend => "Re-send",
            ReconAction::Adopt => "Adopt",
            ReconAction::Dismiss => "Dismiss",
        }
    }
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftRow {
    /// Stable key of this difference (kind, record, ERP record): what a dismissal remembers.
    pub key: String,
    /// Its kind.
    pub kind: DriftKind,
    /// Whether it is about an order or a customer.
    pub entity: ReconEntity,
    /// Our order, when there is one.
    pub order_id: Option<Uuid>,
    /// Its number (or the ERP's DocNumber).
    pub order_number: Option<i64>,
    /// Our customer, on a customer's row.
    pub customer_id: Option<Uuid>,
    /// Its number.
    pub customer_number: Option<i64>,
    /// The ERP's record, when there is one.
    pub external_id: Option<String>,
    /// What we hold, in words ("USD 120.00 total, 0.00 due").
    pub ours: Option<String>,
    /// What the ERP holds, in words.
    pub theirs: Option<String>,
    /// What it means, in plain words.
    pub detail: String,
    /// What can be done.
    pub actions: Vec<ReconAction>,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReconReport {
    /// The ERP.
    pub provider: String,
    /// Its company: name and QuickBooks realm id.
    pub company: String,
    /// First day (UTC) of the orders compared.
    pub from: NaiveDate,
    /// Last day (UTC), included.
    pub to: NaiveDate,
    /// Our orders compared.
    pub orders_checked: i64,
    /// Our customers compared (created or changed in the range, or with orders in it).
    pub customers_checked: i64,
    /// ERP invoices read.
    pub invoices_read: i64,
    /// Calls made to the ERP to build the report.
    pub calls: i64,
    /// Differences dismissed earlier, not listed.
    pub dismissed: i64,
    /// The differences.
    pub rows: Vec<DriftRow>,
}

/// An action on one row of the report: the row's `key` and `kind` with what the action needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "action")]
pub enum ReconActionInput {
    /// Queue the order again (a mapping to an invoice QuickBooks no longer has is forgotten
    /// first).
    Resend {
        /// The row's key.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
        key: String,
        /// The row's kind.
        kind: DriftKind,
        /// The order.
        order_id: Uuid,
    },
    /// Record the invoice (it must carry the order's marker) as the order's mapping.
    Adopt {
        /// The row's key.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
        key: String,
        /// The row's kind.
        kind: DriftKind,
        /// The order.
        order_id: Uuid,
        /// The QuickBooks invoice.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 50))]
        external_id: String,
    },
    /// Queue the customer again (a mapping to a customer QuickBooks no longer has is forgotten
    /// first; a mapped one gets our name, email and addresses).
    ResendCustomer {
        /// The row's key.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
        key: String,
        /// The row's kind.
        kind: DriftKind,
        /// The customer.
        customer_id: Uuid,
    },
    /// Record the ERP's customer (it must carry our customer's name and be nobody else's) as the
    /// customer's mapping.
    AdoptCustomer {
        /// The row's key.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
        key: String,
        /// The row's kind.
        kind: DriftKind,
        /// The customer.
        customer_id: Uuid,
        /// The QuickBooks customer.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 50))]
        external_id: String,
    },
    /// Stop listing the row (its key names its records).
    Dismiss {
        /// The row's key.
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
        key: String,
        /// The row's kind.
        kind: DriftKind,
    },
}

impl ReconActionInput {
    /// What it does.
    pub fn action(&self) -> ReconAction {
        match self {
            ReconActionInput::Resend { .. } | ReconActionInput::ResendCustomer { .. } => {
                ReconAction::Resend
            }
            ReconActionInput::Adopt { .. } | ReconActionInput::AdoptCustomer { .. } => {
                ReconAction::Adopt
            }
            ReconActionInput::Dismiss { .. } => ReconAction::Dismiss,
        }
    }

    /// The row's key.
    pub fn key(&self) -> &str {
        match self {
            ReconActionInput::Resend { key, .. }
            | ReconActionInput::Adopt { key, .. }
            | ReconActionInput::ResendCustomer { key, .. }
            | ReconActionInput::AdoptCustomer { key, .. }
            | ReconActionInput::Dismiss { key, .. } => key,
        }
    }

    /// The row's kind.
    pub fn kind(&self) -> DriftKind {
        match self {
            ReconActionInput::Resend { kind, .. }
            | ReconActionInput::Adopt { kind, .. }
            | ReconActionInput::ResendCustomer { kind, .. }
            | ReconActionInput::AdoptCustomer { kind, .. }
            | ReconActionInput::Dismiss { kind, .. } => *kind,
        }
    }

    /// The row's order, if any.
    pub fn order_id(&self) -> Option<Uuid> {
        match self {
            ReconActionInput::Resend { order_id, .. }
            | ReconActionInput::Adopt { order_id, .. } => Some(*order_id),
            ReconActionInput::ResendCustomer { .. } | ReconActionInput::AdoptCustomer { .. } => {
                None
            }
            ReconActionInput::Dismiss { key, .. } => key_part(key, 1)?.parse().ok(),
        }
    }

    /// The row's customer, if it is a customer's row.
    pub fn customer_id(&self) -> Option<Uuid> {
        match self {
            ReconActionInput::ResendCustomer { customer_id, .. }
            | ReconActionInput::AdoptCustomer { customer_id, .. } => Some(*customer_id),
            ReconActionInput::Resend { .. } | ReconActionInput::Adopt { .. } => None,
            ReconActionInput::Dismiss { key, .. } => key_part(key, 1)?
                .strip_prefix(CUSTOMER_PREFIX)?
                .parse()
                .ok(),
        }
    }

    /// The row's ERP record, if any (a dismissal reads it from the key).
    pub fn external_id(&self) -> Option<&str> {
        match self {
            ReconActionInput::Resend { .. } | ReconActionInput::ResendCustomer { .. } => None,
            ReconActionInput::Adopt { external_id, .. }
            | ReconActionInput::AdoptCustomer { external_id, .. } => Some(external_id),
            ReconActionInput::Dismiss { key, .. } => key_part(key, 2),
        }
    }
}

/// The key of a row: `{kind code}:{our order id, or nothing}:{the ERP's record id, or nothing}`.
pub fn drift_key(kind: DriftKind, order_id: Option<Uuid>, external_id: Option<&str>) -> String {
    format!(
        "{}:{}:{}",
        kind.code(),
        order_id.map(|o| o.to_string()).unwrap_or_default(),
        external_id.unwrap_or_default()
    )
}

/// How a customer's id is written in a key (an order's is bare).
const CUSTOMER_PREFIX: &str = "customer-";

/// The key of a customer's row: `{kind code}:customer-{our customer id}:{the ERP's record id, or
/// nothing}`.
pub fn customer_drift_key(kind: DriftKind, customer_id: Uuid, external_id: Option<&str>) -> String {
    format!(
        "{}:{CUSTOMER_PREFIX}{customer_id}:{}",
        kind.code(),
        external_id.unwrap_or_default()
    )
}

/// Part `n` of a key (0 kind, 1 our record, 2 the ERP's record), when present.
fn key_part(key: &str, n: usize) -> Option<&str> {
    key.splitn(3, ':').nth(n).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dismissal_names_the_records_of_its_key() {
        let order = Uuid::from_u128(7);
        let key = drift_key(DriftKind::DuplicateDocNumber, Some(order), Some("99"));
        let d = ReconActionInput::Dismiss {
            key,
            kind: DriftKind::DuplicateDocNumber,
        };
        assert_eq!((d.order_id(), d.external_id()), (Some(order), Some("99")));
        let bare = ReconActionInput::Dismiss {
            key: drift_key(DriftKind::MissingHere, None, Some("12")),
            kind: DriftKind::MissingHere,
        };
        assert_eq!((bare.order_id(), bare.external_id()), (None, Some("12")));
        let customer = Uuid::from_u128(9);
        let c = ReconActionInput::Dismiss {
            key: customer_drift_key(DriftKind::DetailsDiffer, customer, Some("58")),
            kind: DriftKind::DetailsDiffer,
        };
        assert_eq!(
            (c.order_id(), c.customer_id(), c.external_id()),
            (None, Some(customer), Some("58"))
        );
    }
}
