//! Confirmations carried in the URL, for forms posted without JavaScript (the server sends the
//! browser back with `?created=1` or `?done=…`; with JavaScript the page shows the action's
//! result itself).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// "Order created." after a form sent the browser here with `?created=1`.
#[component]
pub fn CreatedNotice(what: &'static str) -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("created").is_some())
            .then(|| view! { <p class="notice" role="status" data-testid="created">{format!("{what} created.")}</p> })
    }
}

/// What `?done=` confirms.
fn message(done: &str) -> Option<&'static str> {
    Some(match done {
        "payment" => "Payment recorded.",
        "paid" => "Order marked paid.",
        "queued" => "Queued for delivery. The badge changes when the ERP answers.",
        "saved" => "Settings saved.",
        "user" => "User saved.",
        "retried" => "Queued again; it is sent on the next pass.",
        "dismissed" => "Dismissed. It will not be sent.",
        "reconciled" => "Done. The report below is read again from QuickBooks.",
        "netsuite-connected" => "NetSuite connected: the credentials were tried and work.",
        "netsuite-checked" => "NetSuite checked; the card shows what it said.",
        "netsuite-pulled" => {
            "NetSuite asked for its changes; what was new is applied within seconds."
        }
        _ => return None,
    })
}

/// The confirmation named by `?done=`, if any.
#[component]
pub fn DoneNotice() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("done").and_then(|d| message(&d)))
            .map(|m| view! { <p class="notice" role="status" data-testid="done">{m}</p> })
    }
}
