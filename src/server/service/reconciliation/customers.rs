//! The customers' half of the reconciliation report: our customers and their mappings on one
//! side, the ERP's customer records on the other. No I/O here, so each rule is tested on its own.
//!
//! What we own of a QuickBooks customer (DESIGN § 13) is its display name (ours, or
//! `Name (number)` when the plain name was taken), company name and email; a difference there is
//! a row, anything else the accountant may keep as they like.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::reconcile::{customer_drift_key, DriftKind, DriftRow, ReconAction, ReconEntity};
use crate::server::erp::quickbooks::adapter::display_names;

/// One of our customers, as the comparison needs it.
#[derive(Clone, Debug)]
pub struct OurCustomer {
    /// Id.
    pub id: Uuid,
    /// Per-tenant number.
    pub number: i64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
}

impl OurCustomer {
    /// The display names QuickBooks may hold for it: the name, or `Name (number)`.
    pub fn display_names(&self) -> [String; 2] {
        display_names(&self.name, self.number)
    }
}

/// An ERP customer record, as the comparison reads it.
#[derive(Clone, Debug)]
pub struct TheirCustomer {
    /// Its id there.
    pub id: String,
    /// DisplayName.
    pub display_name: String,
    /// CompanyName.
    pub company_name: Option<String>,
    /// PrimaryEmailAddr.Address.
    pub email: Option<String>,
    /// Active (false: "deleted" there).
    pub active: bool,
}

/// Both sides.
pub struct CustomerSides<'a> {
    /// Our customers in scope.
    pub customers: &'a [OurCustomer],
    /// Our customer id → the ERP's customer id.
    pub mapped: &'a HashMap<Uuid, String>,
    /// ERP customers read: those mapped, and those named like an unmapped customer of ours.
    pub theirs: &'a [TheirCustomer],
    /// ERP customer ids any customer of ours is mapped to (adopting one of those would steal it).
    pub taken: &'a HashMap<String, Uuid>,
    /// Whether customers are sent on their own (the connection's "sync customers").
    pub customers_synced: bool,
}

fn row(
    kind: DriftKind,
    c: &OurCustomer,
    theirs: Option<&TheirCustomer>,
    detail: String,
    actions: &[ReconAction],
) -> DriftRow {
    DriftRow {
        key: customer_drift_key(kind, c.id, theirs.map(|t| t.id.as_str())),
        kind,
        entity: ReconEntity::Customer,
        order_id: None,
        order_number: None,
        customer_id: Some(c.id),
        customer_number: Some(c.number),
        external_id: theirs.map(|t| t.id.clone()),
        ours: Some(format!(
            "{}{}",
            c.name,
            c.email
                .as_deref()
                .map(|e| format!(" <{e}>"))
                .unwrap_or_default()
        )),
        theirs: theirs.map(|t| {
            format!(
                "customer {}: {}{}{}",
                t.id,
                t.display_name,
                t.email
                    .as_deref()
                    .map(|e| format!(" <{e}>"))
                    .unwrap_or_default(),
                if t.active { "" } else { ", inactive" }
            )
        }),
        detail,
        actions: actions.to_vec(),
    }
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    let norm = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
    };
    norm(a) == norm(b)
}

/// What differs in the fields we own, in words; empty when nothing does.
fn differences(c: &OurCustomer, t: &TheirCustomer) -> Vec<String> {
    let mut out = Vec::new();
    if !c.display_names().iter().any(|n| n == &t.display_name) {
        out.push(format!("the name there is {:?}", t.display_name));
    }
    let company: String = c.name.trim().chars().take(100).collect();
    if t.company_name.as_deref().map(str::trim) != Some(company.as_str()) {
        out.push(format!(
            "the company name there is {:?}",
            t.company_name.as_deref().unwrap_or("")
        ));
    }
    // We send an email only when we hold one; theirs is the accountant's otherwise.
    if c.email.is_some() && !same(c.email.as_deref(), t.email.as_deref()) {
        out.push(format!(
            "the email there is {:?}",
            t.email.as_deref().unwrap_or("")
        ));
    }
    out
}

/// Every difference of the customers, by number.
pub fn compare_customers(s: &CustomerSides<'_>) -> Vec<DriftRow> {
    use ReconAction::{Adopt, Dismiss, Resend};
    let by_id: HashMap<&str, &TheirCustomer> =
        s.theirs.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut by_name: HashMap<&str, &TheirCustomer> = HashMap::new();
    for t in s.theirs.iter().filter(|t| t.active) {
        by_name.entry(t.display_name.as_str()).or_insert(t);
    }
    let mut customers: Vec<&OurCustomer> = s.customers.iter().collect();
    customers.sort_by_key(|c| c.number);
    let mut rows = Vec::new();
    for c in customers {
        let n = c.number;
        let Some(their_id) = s.mapped.get(&c.id) else {
            let free = c.display_names().into_iter().find_map(|name| {
                by_name
                    .get(name.as_str())
                    .copied()
                    .filter(|t| s.taken.get(&t.id).is_none_or(|owner| *owner == c.id))
            });
            match free {
                Some(t) => rows.push(row(
                    DriftKind::Unmapped,
                    c,
                    Some(t),
                    format!("The ERP has a customer named like customer {n} that erp-bridge has not linked: adopting it links them, so no second customer is made."),
                    &[Adopt, Dismiss],
                )),
                None if s.customers_synced => rows.push(row(
                    DriftKind::MissingThere,
                    c,
                    None,
                    format!("Customer {n} is not in the ERP although customers are synced: re-send it."),
                    &[Resend, Dismiss],
                )),
                None => {}
            }
            continue;
        };
        let Some(t) = by_id.get(their_id.as_str()) else {
            rows.push(row(
                DriftKind::MissingThere,
                c,
                None,
                format!("Customer {n} was linked to customer {their_id}, which the ERP no longer has (merged or deleted there): re-sending forgets that link and sends the customer again."),
                &[Resend, Dismiss],
            ));
            continue;
        };
        if !t.active {
            rows.push(row(
                DriftKind::InactiveThere,
                c,
                Some(t),
                format!("Customer {n} was made inactive in the ERP, so new invoices for it will be refused there: make it active again in the ERP, or dismiss."),
                &[Dismiss],
            ));
            continue;
        }
        let diffs = differences(c, t);
        if !diffs.is_empty() {
            rows.push(row(
                DriftKind::DetailsDiffer,
                c,
                Some(t),
                format!("Customer {n} differs in the ERP: {}. Re-sending writes ours there (name, company name, email and addresses).", diffs.join("; ")),
                &[Resend, Dismiss],
            ));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(n: i64) -> OurCustomer {
        OurCustomer {
            id: Uuid::from_u128(n as u128),
            number: n,
            name: format!("Buyer {n}"),
            email: Some(format!("ap{n}@example.com")),
        }
    }

    fn theirs(id: &str, c: &OurCustomer) -> TheirCustomer {
        TheirCustomer {
            id: id.into(),
            display_name: c.name.clone(),
            company_name: Some(c.name.clone()),
            email: c.email.clone(),
            active: true,
        }
    }

    fn kinds(
        customers: &[OurCustomer],
        mapped: &[(usize, &str)],
        their: &[TheirCustomer],
        synced: bool,
    ) -> Vec<(DriftKind, i64)> {
        let mapped: HashMap<Uuid, String> = mapped
            .iter()
            .map(|(i, id)| (customers[*i].id, id.to_string()))
            .collect();
        let taken: HashMap<String, Uuid> = mapped.iter().map(|(o, t)| (t.clone(), *o)).collect();
        compare_customers(&CustomerSides {
            customers,
            mapped: &mapped,
            theirs: their,
            taken: &taken,
            customers_synced: synced,
        })
        .into_iter()
        .map(|r| (r.kind, r.customer_number.unwrap_or_default()))
        .collect()
    }

    #[test]
    fn customers_in_step_report_nothing() {
        let c = [ours(1), ours(2)];
        let mut disambiguated = theirs("20", &c[1]);
        disambiguated.display_name = "Buyer 2 (2)".into();
        // Their email in another case, a phone of their own: still in step.
        disambiguated.email = Some("AP2@example.com".into());
        assert_eq!(
            kinds(
                &c,
                &[(0, "10"), (1, "20")],
                &[theirs("10", &c[0]), disambiguated],
                true
            ),
            vec![]
        );
    }

    #[test]
    fn each_kind_of_customer_drift_is_found() {
        let c: Vec<OurCustomer> = (1..=6).map(ours).collect();
        let mut renamed = theirs("11", &c[0]);
        renamed.display_name = "Someone Else".into();
        let mut inactive = theirs("12", &c[1]);
        inactive.active = false;
        let same_name = theirs("14", &c[3]);
        // Named like customer 5, but already another customer's mapping: not offered.
        let mut stolen = theirs("16", &c[5]);
        stolen.display_name = c[4].name.clone();
        let their = [renamed, inactive, same_name, stolen];
        let mapped = [(0, "11"), (1, "12"), (2, "13"), (5, "16")];
        assert_eq!(
            kinds(&c, &mapped, &their, true),
            vec![
                (DriftKind::DetailsDiffer, 1),
                (DriftKind::InactiveThere, 2),
                (DriftKind::MissingThere, 3),
                (DriftKind::Unmapped, 4),
                (DriftKind::MissingThere, 5),
                (DriftKind::DetailsDiffer, 6),
            ]
        );
    }

    #[test]
    fn unsynced_customers_are_missing_only_when_customers_are_synced() {
        let c = [ours(1)];
        assert_eq!(kinds(&c, &[], &[], false), vec![]);
        assert_eq!(
            kinds(&c, &[], &[], true),
            vec![(DriftKind::MissingThere, 1)]
        );
    }

    #[test]
    fn an_email_we_do_not_hold_is_theirs_to_keep() {
        let mut c = ours(1);
        c.email = None;
        let mut t = theirs("10", &c);
        t.email = Some("books@example.com".into());
        assert_eq!(kinds(&[c], &[(0, "10")], &[t], true), vec![]);
    }
}
