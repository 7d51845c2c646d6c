//! An order's payments (where each came from) and, for roles that record payments, the forms to
//! record one or mark the order paid.

use leptos::prelude::*;

use crate::api::commerce::{MarkOrderPaid, RecordPayment};
use crate::domain::commerce::{Order, OrderStatus, Payment};
use crate::domain::connection::Provider;
use crate::domain::money::{format_money, major_text};

/// Where a payment came from, in words.
fn origin_label(origin: &str) -> String {
    if origin == "Local" {
        return "Recorded here".into();
    }
    match origin.parse::<Provider>() {
        Ok(p) => format!("From {}", p.label()),
        Err(_) => origin.to_string(),
    }
}

/// The payments table.
#[component]
pub fn PaymentList(payments: Vec<Payment>) -> impl IntoView {
    if payments.is_empty() {
        return view! { <p class="muted" data-testid="no-payments">"No payments yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-frame">
            <table class="table" data-testid="payments">
                <thead><tr><th>"Received"</th><th>"Amount"</th><th>"Method"</th><th>"Reference"</th><th>"Source"</th></tr></thead>
                <tbody>
                    {payments.into_iter().map(|p| view! {
                        <tr>
                            <td>{p.received_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                            <td class="num">{format_money(p.amount, &p.currency)}</td>
                            <td>{p.method}</td>
                            <td>{p.reference.unwrap_or_default()}</td>
                            <td>{origin_label(&p.origin)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// "Record a payment" (prefilled with the balance) and "Mark paid", while a balance is due.
#[component]
pub fn PaymentForms(
    order: Order,
    record: ServerAction<RecordPayment>,
    mark_paid: ServerAction<MarkOrderPaid>,
) -> impl IntoView {
    let balance = order.total - order.amount_paid;
    let recorded = record.value();
    let marked = mark_paid.value();
    let feedback = move || {
        let record_result = recorded.get().map(|r| r.map(|_| "Payment recorded."));
        let mark_result = marked.get().map(|r| r.map(|_| "Order marked paid."));
        record_result.or(mark_result).map(|r| match r {
            Ok(msg) => view! { <p class="notice" role="status" data-testid="payment-done">{msg}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert" data-testid="payment-error">{e.to_string()}</p> }.into_any(),
        })
    };
    if balance <= 0 || order.status == OrderStatus::Cancelled {
        return view! { {feedback} }.into_any();
    }
    let id = order.id.to_string();
    let id_for_mark = id.clone();
    let currency = order.currency.clone();
    view! {
        <section class="card" data-testid="record-payment">
            <h2>"Record a payment"</h2>
            <p class="muted">{format!("Balance due: {}", format_money(balance, &currency))}</p>
            <ActionForm action=record attr:class="stack">
                <input type="hidden" name="order_id" value=id/>
                <label>{format!("Amount ({currency})")}
                    <input type="text" name="amount" inputmode="decimal" required value=major_text(balance, &currency)/>
                </label>
                <label>"Method"
                    <select name="method">
                        {["card", "transfer", "cheque", "cash", "other"].into_iter()
                            .map(|m| view! { <option value=m>{m}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Reference (optional)" <input type="text" name="reference" maxlength="200"/></label>
                <button type="submit">"Record payment"</button>
            </ActionForm>
            <ActionForm action=mark_paid attr:class="inline">
                <input type="hidden" name="order_id" value=id_for_mark/>
                <button type="submit" class="secondary" data-testid="mark-paid">"Mark paid in full"</button>
            </ActionForm>
            {feedback}
        </section>
    }
    .into_any()
}
