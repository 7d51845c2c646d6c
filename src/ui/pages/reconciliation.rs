//! `/integrations/quickbooks/reconciliation` (Admin): for a range of days, every order placed
//! then compared with QuickBooks' invoices, every customer created, changed or ordering then with
//! QuickBooks' customers; each difference in plain words with what can be done
//! about it (re-send, adopt, dismiss). The report reads QuickBooks (Intuit meters reads), so it
//! runs when asked, not on every visit. Forms work without JavaScript.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::reconciliation::{reconciliation_report, ReconciliationAction};
use crate::domain::reconcile::{DriftRow, ReconAction, ReconReport};
use crate::ui::components::error_box::ErrorBox;
use crate::ui::components::notice::DoneNotice;
use crate::ui::pages::sync_logs::encode;

const PATH: &str = "/integrations/quickbooks/reconciliation";

/// The page.
#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let query = use_query_map();
    let act = ServerAction::<ReconciliationAction>::new();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("from").unwrap_or_default(),
                q.get("to").unwrap_or_default(),
                q.get("run").is_some_and(|r| r == "1"),
            )
        })
    };
    let report = Resource::new(
        move || (wanted(), act.version().get()),
        |((from, to, run), _)| async move {
            if run {
                Some(reconciliation_report(from, to).await)
            } else {
                None
            }
        },
    );
    let feedback = move || {
        act.value().get().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status" data-testid="recon-done">{m}</p> }
                .into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <p><a href="/integrations">"← Integrations"</a></p>
        <h1>"QuickBooks reconciliation"</h1>
        <p class="muted">"Every order placed in the range compared with the invoices QuickBooks holds, and every customer created, changed or ordering in it with QuickBooks' customers: what is missing on either side, totals and open balances that differ, duplicates, invoices voided there, customers renamed or made inactive there. Running it reads QuickBooks (1,000 invoices or 100 customers per call)."</p>
        <DoneNotice/>
        {feedback}
        {move || {
            let (from, to, _) = wanted();
            view! {
                <Form method="GET" action=PATH attr:class="filters" attr:data-testid="recon-form">
                    <input type="hidden" name="run" value="1"/>
                    <label>"From" <input type="date" name="from" value=from.clone()/></label>
                    <label>"to (included)" <input type="date" name="to" value=to.clone()/></label>
                    <div class="filter-actions">
                        <button type="submit">"Compare with QuickBooks"</button>
                        <a class="button secondary" href=format!("/api/integrations/quickbooks/reconciliation.csv?from={}&to={}", encode(&from), encode(&to))>"Download CSV"</a>
                    </div>
                </Form>
            }
        }}
        <Suspense fallback=|| view! { <p>"Reading QuickBooks…"</p> }>
            {move || Suspend::new(async move {
                let (from, to, _) = wanted();
                let back = format!("{PATH}?run=1&from={}&to={}", encode(&from), encode(&to));
                match report.await {
                    None => view! { <p class="empty" data-testid="recon-idle">"Choose the days (the last 31 by default) and compare."</p> }.into_any(),
                    Some(Ok(r)) => view! { <Report r back act/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Report(r: ReconReport, back: String, act: ServerAction<ReconciliationAction>) -> impl IntoView {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let summary = format!(
        "{} to {} · {} · {} and {} compared with {} in {} · {}{}",
        r.from,
        r.to,
        r.company,
        plural(r.orders_checked, "order", "orders"),
        plural(r.customers_checked, "customer", "customers"),
        plural(r.invoices_read, "QuickBooks invoice", "QuickBooks invoices"),
        plural(r.calls, "call", "calls"),
        plural(r.rows.len() as i64, "difference", "differences"),
        if r.dismissed > 0 {
            format!(" ({} dismissed earlier, not shown)", r.dismissed)
        } else {
            String::new()
        },
    );
    let body = if r.rows.is_empty() {
        view! { <p class="empty" data-testid="recon-clean">"In step: every order and customer of the range matches QuickBooks."</p> }.into_any()
    } else {
        view! {
            <div class="table-frame">
                <table class="table cards" data-testid="recon-rows">
                    <thead><tr><th>"Difference"</th><th>"Record"</th><th>"Here"</th><th>"In QuickBooks"</th><th>"What it means"</th><th></th></tr></thead>
                    <tbody>{r.rows.into_iter().map(|d| view! { <DriftLine d back=back.clone() act/> }).collect_view()}</tbody>
                </table>
            </div>
        }.into_any()
    };
    view! {
        <p class="muted" data-testid="recon-summary">{summary}</p>
        {body}
    }
}

#[component]
fn DriftLine(d: DriftRow, back: String, act: ServerAction<ReconciliationAction>) -> impl IntoView {
    let record = match (d.order_id, d.order_number, d.customer_id, d.customer_number) {
        (Some(id), Some(n), _, _) => {
            view! { <a href=format!("/orders/{id}")>{format!("Order #{n}")}</a> }.into_any()
        }
        (None, Some(n), _, _) => view! { <span>{format!("Order #{n}")}</span> }.into_any(),
        (_, _, Some(id), Some(n)) => {
            view! { <a href=format!("/customers/{id}")>{format!("Customer #{n}")}</a> }.into_any()
        }
        _ => view! { <span>"—"</span> }.into_any(),
    };
    let buttons = d
        .actions
        .clone()
        .into_iter()
        .map(|a| {
            let class = if a == ReconAction::Dismiss {
                "small secondary"
            } else {
                "small"
            };
            let kind = d.kind.code();
            let key = d.key.clone();
            let order = d.order_id.map(|o| o.to_string()).unwrap_or_default();
            let customer = d.customer_id.map(|c| c.to_string()).unwrap_or_default();
            let external = d.external_id.clone().unwrap_or_default();
            let back = back.clone();
            view! {
                <ActionForm action=act attr:class="inline">
                    <input type="hidden" name="action" value=format!("{a:?}")/>
                    <input type="hidden" name="kind" value=kind/>
                    <input type="hidden" name="key" value=key/>
                    <input type="hidden" name="order_id" value=order/>
                    <input type="hidden" name="customer_id" value=customer/>
                    <input type="hidden" name="external_id" value=external/>
                    <input type="hidden" name="back" value=back/>
                    <button type="submit" class=class>{a.label()}</button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <tr data-kind=d.kind.code()>
            <td><span class=format!("badge drift-{}", d.kind.code())>{d.kind.label()}</span></td>
            <td data-label="Record">{record}</td>
            <td class="small" data-label="Here">{d.ours.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="small" data-label="In QuickBooks">{d.theirs.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="small" data-label="What it means"><div class="what">{d.detail.clone()}</div></td>
            <td><div class="recon-actions">{buttons}</div></td>
        </tr>
    }
}
