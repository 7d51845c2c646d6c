//! The comparison at the heart of the reconciliation report: our orders and their mappings on
//! one side, the ERP's invoices on the other, every difference a [`DriftRow`]. No I/O here, so
//! each rule is tested on its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use crate::domain::money::format_money;
use crate::domain::reconcile::{drift_key, DriftKind, DriftRow, ReconAction, ReconEntity};

/// One of our orders, as the comparison needs it.
#[derive(Clone, Debug)]
pub struct OurOrder {
    /// Id.
    pub id: Uuid,
    /// Number (the invoice's DocNumber).
    pub order_number: i64,
    /// Cancelled here.
    pub cancelled: bool,
    /// Paid in full: the ERP must have its invoice.
    pub paid: bool,
    /// Total, minor units.
    pub total: i64,
    /// Still owed, minor units.
    pub due: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// One invoice as the ERP holds it.
#[derive(Clone, Debug)]
pub struct TheirInvoice {
    /// The ERP's id.
    pub id: String,
    /// Its DocNumber.
    pub doc_number: Option<String>,
    /// Total, minor units of `currency`.
    pub total: i64,
    /// Open balance, minor units of `currency`.
    pub balance: i64,
    /// Its currency.
    pub currency: String,
    /// Voided in the ERP.
    pub voided: bool,
    /// The order our marker names, if it is ours.
    pub ours: Option<Uuid>,
}

/// What the comparison reads.
pub struct Sides<'a> {
    /// Our orders of the range.
    pub orders: &'a [OurOrder],
    /// Order id → the ERP invoice it is mapped to.
    pub mapped: &'a HashMap<Uuid, String>,
    /// The ERP's invoices read: those of the range and those our mappings name.
    pub invoices: &'a [TheirInvoice],
    /// Whether payments are sent (otherwise balances differ by design).
    pub payments_synced: bool,
    /// Orders of ours outside the range that invoices of the range name by marker.
    pub known_elsewhere: &'a HashSet<Uuid>,
}

fn money(minor: i64, currency: &str) -> String {
    format_money(minor, currency)
}

fn ours_text(o: &OurOrder) -> String {
    let state = if o.cancelled { ", cancelled" } else { "" };
    format!(
        "{} total, {} due{state}",
        money(o.total, &o.currency),
        money(o.due, &o.currency)
    )
}

fn theirs_text(i: &TheirInvoice) -> String {
    let state = if i.voided { ", void" } else { "" };
    format!(
        "invoice {} (no. {}): {} total, {} open{state}",
        i.id,
        i.doc_number.as_deref().unwrap_or("—"),
        money(i.total, &i.currency),
        money(i.balance, &i.currency)
    )
}

fn row(
    kind: DriftKind,
    order: Option<&OurOrder>,
    invoice: Option<&TheirInvoice>,
    detail: String,
    actions: &[ReconAction],
) -> DriftRow {
    let key = drift_key(kind, order.map(|o| o.id), invoice.map(|i| i.id.as_str()));
    DriftRow {
        key,
        kind,
        entity: ReconEntity::Order,
        customer_id: None,
        customer_number: None,
        order_id: order.map(|o| o.id),
        order_number: order.map(|o| o.order_number).or_else(|| {
            invoice
                .and_then(|i| i.doc_number.as_deref())
                .and_then(|d| d.parse().ok())
        }),
        external_id: invoice.map(|i| i.id.clone()),
        ours: order.map(ours_text),
        theirs: invoice.map(theirs_text),
        detail,
        actions: actions.to_vec(),
    }
}

/// Every difference, our orders first (by number), then the ERP's extras.
pub fn compare(s: &Sides<'_>) -> Vec<DriftRow> {
    use ReconAction::{Adopt, Dismiss, Resend};
    let by_id: HashMap<&str, &TheirInvoice> =
        s.invoices.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut by_marker: HashMap<Uuid, Vec<&TheirInvoice>> = HashMap::new();
    for i in s.invoices.iter().filter(|i| !i.voided) {
        if let Some(o) = i.ours {
            by_marker.entry(o).or_default().push(i);
        }
    }
    let mapped_invoices: HashSet<&str> = s.mapped.values().map(String::as_str).collect();
    let mut rows = Vec::new();
    let mut orders: Vec<&OurOrder> = s.orders.iter().collect();
    orders.sort_by_key(|o| o.order_number);
    for o in &orders {
        let n = o.order_number;
        let Some(invoice_id) = s.mapped.get(&o.id) else {
            match by_marker.get(&o.id).and_then(|v| v.first()) {
                Some(found) => rows.push(row(
                    DriftKind::Unmapped,
                    Some(o),
                    Some(found),
                    format!("The ERP holds order {n}'s invoice (our marker is on it), but erp-bridge has no mapping to it: adopting it links them, so nothing is created twice."),
                    &[Adopt, Dismiss],
                )),
                None if o.paid && !o.cancelled => rows.push(row(
                    DriftKind::MissingThere,
                    Some(o),
                    None,
                    format!("Order {n} is paid but the ERP has no invoice for it: re-send it."),
                    &[Resend, Dismiss],
                )),
                None => {}
            }
            continue;
        };
        let Some(inv) = by_id.get(invoice_id.as_str()) else {
            rows.push(row(
                DriftKind::MissingThere,
                Some(o),
                None,
                format!("Order {n} was mapped to invoice {invoice_id}, which the ERP no longer has (deleted there): re-sending forgets that mapping and sends the invoice again."),
                &[Resend, Dismiss],
            ));
            continue;
        };
        if inv.voided && !o.cancelled {
            rows.push(row(
                DriftKind::VoidedThere,
                Some(o),
                Some(inv),
                format!("Order {n}'s invoice was voided in the ERP while the order stands here: check with whoever voided it; dismiss once settled."),
                &[Dismiss],
            ));
        } else if !inv.voided && o.cancelled {
            rows.push(row(
                DriftKind::OpenThere,
                Some(o),
                Some(inv),
                format!("Order {n} is cancelled here but its invoice is still open in the ERP: re-sending voids it (unless a payment is applied there)."),
                &[Resend, Dismiss],
            ));
        } else if inv.voided {
            // Cancelled here, void there: as it should be.
        } else if !inv.currency.eq_ignore_ascii_case(&o.currency) || inv.total != o.total {
            rows.push(row(
                DriftKind::TotalDiffers,
                Some(o),
                Some(inv),
                format!("Order {n}'s invoice total in the ERP is not the order's (edited there, or a change not sent): re-sending brings the invoice in line while no payment is applied to it."),
                &[Resend, Dismiss],
            ));
        } else if s.payments_synced && inv.balance != o.due {
            rows.push(row(
                DriftKind::BalanceDiffers,
                Some(o),
                Some(inv),
                format!("Order {n}'s invoice is open for a different amount than the customer owes here (a payment missing on one side): re-sending posts the payments the ERP lacks."),
                &[Resend, Dismiss],
            ));
        }
    }
    // Several live invoices with one order number.
    let mut by_doc: BTreeMap<&str, Vec<&TheirInvoice>> = BTreeMap::new();
    for i in s.invoices.iter().filter(|i| !i.voided) {
        if let Some(d) = i.doc_number.as_deref() {
            by_doc.entry(d).or_default().push(i);
        }
    }
    let ours_by_id: HashMap<Uuid, &OurOrder> = s.orders.iter().map(|o| (o.id, o)).collect();
    for (doc, invoices) in by_doc.iter().filter(|(_, v)| v.len() > 1) {
        let ids: Vec<&str> = invoices.iter().map(|i| i.id.as_str()).collect();
        for extra in invoices
            .iter()
            .filter(|i| !mapped_invoices.contains(i.id.as_str()))
        {
            let order = extra.ours.and_then(|o| ours_by_id.get(&o).copied());
            rows.push(row(
                DriftKind::DuplicateDocNumber,
                order,
                Some(extra),
                format!("Invoices {} all carry number {doc}; invoice {} is not the one erp-bridge maps. Void the extra one in the ERP, then dismiss.", ids.join(", "), extra.id),
                &[Dismiss],
            ));
        }
    }
    // Invoices of ours (by marker) whose order we do not have.
    for i in s.invoices.iter().filter(|i| !i.voided) {
        let Some(o) = i.ours else { continue };
        if ours_by_id.contains_key(&o) || s.known_elsewhere.contains(&o) {
            continue;
        }
        rows.push(row(
            DriftKind::MissingHere,
            None,
            Some(i),
            format!("Invoice {} carries erp-bridge's marker for an order this tenant does not have: it was made by another installation or by hand. Check it in the ERP; dismiss once settled.", i.id),
            &[Dismiss],
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: i64, paid: bool) -> OurOrder {
        OurOrder {
            id: Uuid::from_u128(n as u128),
            order_number: n,
            cancelled: false,
            paid,
            total: 10_000,
            due: if paid { 0 } else { 10_000 },
            currency: "USD".into(),
        }
    }

    fn invoice(id: &str, o: &OurOrder) -> TheirInvoice {
        TheirInvoice {
            id: id.into(),
            doc_number: Some(o.order_number.to_string()),
            total: o.total,
            balance: o.due,
            currency: "USD".into(),
            voided: false,
            ours: Some(o.id),
        }
    }

    fn kinds(
        orders: &[OurOrder],
        mapped: &[(usize, &str)],
        invoices: &[TheirInvoice],
    ) -> Vec<(DriftKind, Option<i64>)> {
        let mapped: HashMap<Uuid, String> = mapped
            .iter()
            .map(|(i, id)| (orders[*i].id, id.to_string()))
            .collect();
        let none = HashSet::new();
        compare(&Sides {
            orders,
            mapped: &mapped,
            invoices,
            payments_synced: true,
            known_elsewhere: &none,
        })
        .into_iter()
        .map(|r| (r.kind, r.order_number))
        .collect()
    }

    #[test]
    fn books_in_step_report_nothing() {
        let o = [order(1, true), order(2, false)];
        assert_eq!(kinds(&o, &[(0, "10")], &[invoice("10", &o[0])]), vec![]);
    }

    #[test]
    fn each_kind_of_drift_is_found() {
        let mut o: Vec<OurOrder> = (1..=8).map(|n| order(n, true)).collect();
        o[6].cancelled = true;
        let mut edited = invoice("11", &o[1]);
        edited.total = 9_000;
        let mut unpaid_there = invoice("12", &o[2]);
        unpaid_there.balance = 10_000;
        let mut voided = invoice("13", &o[3]);
        voided.voided = true;
        let unmapped = invoice("14", &o[4]);
        let duplicate = invoice("99", &o[5]);
        let stranger = TheirInvoice {
            ours: Some(Uuid::from_u128(777)),
            doc_number: Some("777".into()),
            ..invoice("50", &o[0])
        };
        let invoices = [
            edited,
            unpaid_there,
            voided,
            unmapped,
            invoice("15", &o[5]),
            duplicate,
            invoice("17", &o[6]),
            stranger,
        ];
        let mapped = [
            (1, "11"),
            (2, "12"),
            (3, "13"),
            (5, "15"),
            (6, "17"),
            (7, "18"),
        ];
        assert_eq!(
            kinds(&o, &mapped, &invoices),
            vec![
                (DriftKind::MissingThere, Some(1)),
                (DriftKind::TotalDiffers, Some(2)),
                (DriftKind::BalanceDiffers, Some(3)),
                (DriftKind::VoidedThere, Some(4)),
                (DriftKind::Unmapped, Some(5)),
                (DriftKind::OpenThere, Some(7)),
                (DriftKind::MissingThere, Some(8)),
                (DriftKind::DuplicateDocNumber, Some(6)),
                (DriftKind::MissingHere, Some(777)),
            ]
        );
    }

    #[test]
    fn balances_are_not_compared_while_payments_stay_here() {
        let o = [order(1, true)];
        let mut open = invoice("10", &o[0]);
        open.balance = 10_000;
        let mapped = HashMap::from([(o[0].id, "10".to_string())]);
        let none = HashSet::new();
        let rows = compare(&Sides {
            orders: &o,
            mapped: &mapped,
            invoices: &[open],
            payments_synced: false,
            known_elsewhere: &none,
        });
        assert!(rows.is_empty(), "{rows:?}");
    }

    #[test]
    fn keys_are_stable_and_distinct() {
        let o = [order(1, true), order(2, true)];
        let a = kinds(&o, &[], &[]);
        assert_eq!(a.len(), 2);
        let mapped = HashMap::new();
        let none = HashSet::new();
        let sides = Sides {
            orders: &o,
            mapped: &mapped,
            invoices: &[],
            payments_synced: true,
            known_elsewhere: &none,
        };
        let (x, y) = (compare(&sides), compare(&sides));
        assert_eq!(x[0].key, y[0].key);
        assert_ne!(x[0].key, x[1].key);
    }
}
