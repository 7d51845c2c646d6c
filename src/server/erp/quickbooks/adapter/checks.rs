//! Refusals before the push (issue 12, DESIGN § 14): what QuickBooks would refuse is caught here
//! and recorded as a failed delivery that names the field in plain words, with no write made —
//! never a raw fault after a round trip, never a value cut short without a word.
//!
//! The rules: the field lengths of Intuit's entity reference (Customer: CompanyName 100,
//! DisplayName 500 without `:`, tab or newline, PrimaryEmailAddr 100, PrimaryPhone 30; addresses:
//! lines 500, City, CountrySubDivisionCode and Country 255, PostalCode 30; Invoice: DocNumber 21,
//! line Description 4000; Item: Name and Sku 100); the home-currency rule (until multi-currency
//! is built, an order or payment in another currency is refused); and the company's closing
//! date (a transaction dated on or before `BookCloseDate` is refused).

use chrono::NaiveDate;
use serde_json::json;

use crate::domain::commerce::{Address, Customer, Order, Payment};
use crate::server::erp::quickbooks::company::CompanyPrefs;
use crate::server::erp::DeliveryError;

/// A refusal naming `field` (QuickBooks' name for it), for the sync log.
fn refused(field: &str, message: String) -> DeliveryError {
    DeliveryError::Permanent {
        message,
        request: None,
        response: Some(json!({ "refused_before_sending": { "field": field } })),
    }
}

/// `value` (what a person calls it: `what`) fits QuickBooks' `field` of at most `max` characters.
fn fits(what: &str, field: &str, value: Option<&str>, max: usize) -> Result<(), DeliveryError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(());
    };
    let n = value.chars().count();
    if n > max {
        return Err(refused(
            field,
            format!("{what} is {n} characters long and QuickBooks takes at most {max} in {field}; shorten it here, then retry."),
        ));
    }
    Ok(())
}

fn address(which: &str, field: &str, a: &Address) -> Result<(), DeliveryError> {
    let parts = [
        ("line 1", "Line1", &a.line1, 500),
        ("line 2", "Line2", &a.line2, 500),
        ("city", "City", &a.city, 255),
        ("region", "CountrySubDivisionCode", &a.region, 255),
        ("postal code", "PostalCode", &a.postal_code, 30),
        ("country", "Country", &a.country, 255),
    ];
    for (what, part, value, max) in parts {
        fits(
            &format!("The {which} address's {what}"),
            &format!("{field}.{part}"),
            value.as_deref(),
            max,
        )?;
    }
    Ok(())
}

/// What QuickBooks would refuse of the customer's fields we send.
pub(super) fn customer(c: &Customer) -> Result<(), DeliveryError> {
    fits("The customer's name", "CompanyName", Some(&c.name), 100)?;
    if let Some(bad) = c
        .name
        .chars()
        .find(|ch| matches!(ch, ':' | '\t' | '\n' | '\r'))
    {
        let shown = match bad {
            ':' => "a colon (:)".to_string(),
            _ => "a tab or line break".to_string(),
        };
        return Err(refused(
            "DisplayName",
            format!("The customer's name contains {shown}, which QuickBooks does not allow in DisplayName; rename the customer here, then retry."),
        ));
    }
    fits(
        "The customer's email",
        "PrimaryEmailAddr.Address",
        c.email.as_deref(),
        100,
    )?;
    fits(
        "The customer's phone",
        "PrimaryPhone.FreeFormNumber",
        c.phone.as_deref(),
        30,
    )?;
    address("billing", "BillAddr", &c.billing)?;
    address("shipping", "ShipAddr", &c.shipping)
}

/// The currency rule: QuickBooks keeps the company's books in one home currency until
/// multi-currency is built here.
fn currency(what: &str, currency: &str, prefs: &CompanyPrefs) -> Result<(), DeliveryError> {
    if !currency.eq_ignore_ascii_case(&prefs.home_currency) {
        return Err(refused(
            "CurrencyRef",
            format!(
                "{what} is in {currency} and the QuickBooks company keeps its books in {home}; erp-bridge sends only {home} amounts to it (other currencies are not supported yet).",
                currency = currency.to_ascii_uppercase(),
                home = prefs.home_currency
            ),
        ));
    }
    Ok(())
}

/// The closing-date rule.
fn open_period(what: &str, date: NaiveDate, prefs: &CompanyPrefs) -> Result<(), DeliveryError> {
    match prefs.book_close_date {
        Some(close) if date <= close => Err(refused(
            "TxnDate",
            format!("{what} is dated {date} and the QuickBooks company's books are closed through {close}; the accountant must reopen that period (or move the closing date) before it can be recorded."),
        )),
        _ => Ok(()),
    }
}

/// What QuickBooks would refuse of an order's invoice.
pub(super) fn invoice(order: &Order, prefs: &CompanyPrefs) -> Result<(), DeliveryError> {
    let what = format!("Order {}", order.order_number);
    currency(&what, &order.currency, prefs)?;
    open_period(
        &format!("The invoice of order {}", order.order_number),
        invoice_date(order),
        prefs,
    )?;
    fits(
        "The order number",
        "DocNumber",
        Some(&order.order_number.to_string()),
        21,
    )?;
    for (n, item) in order.items.iter().enumerate() {
        fits(
            &format!("Line {} ({})'s description", n + 1, item.sku),
            "Line.Description",
            Some(&item.description),
            4000,
        )?;
        fits(
            &format!("Line {}'s SKU", n + 1),
            "Item.Name",
            Some(&item.sku),
            100,
        )?;
    }
    Ok(())
}

/// What QuickBooks would refuse of a payment.
pub(super) fn payment(
    p: &Payment,
    order_number: i64,
    prefs: &CompanyPrefs,
) -> Result<(), DeliveryError> {
    let what = format!("A payment of order {order_number}");
    currency(&what, &p.currency, prefs)?;
    open_period(&what, p.received_at.date_naive(), prefs)
}

/// The invoice's TxnDate: the day the order was paid, else the day it was placed.
pub(super) fn invoice_date(order: &Order) -> NaiveDate {
    order.paid_at.unwrap_or(order.created_at).date_naive()
}
