//! A small read-only page for people: each company's customers, invoices and payments, and a
//! form to record a payment against an invoice, so the round trip is visible in demo mode.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::entities;
use super::{clock, store, Sandbox};
pub use crate::server::sandbox::escape;

fn s(v: &Value) -> String {
    escape(&match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn money(v: &Value) -> String {
    format!("{:.2}", v.as_f64().unwrap_or(0.0))
}

/// `GET /`.
pub async fn index(State(sb): State<Sandbox>) -> Response {
    match render(&sb, None).await {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the sandbox could not read its data",
        )
            .into_response(),
    }
}

async fn render(sb: &Sandbox, message: Option<&str>) -> Result<String, sqlx::Error> {
    let mut c = sb.inner.db.acquire().await?;
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>QuickBooks sandbox</title>\
         <style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}\
         td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}</style></head><body>\
         <h1>QuickBooks sandbox</h1><p>What the emulated companies hold. Read-only, except recording a payment.</p>",
    );
    if let Some(m) = message {
        html.push_str(&format!(
            "<p role=\"alert\"><strong>{}</strong></p>",
            escape(m)
        ));
    }
    for co in store::companies(&mut c).await? {
        let realm = co.realm.clone();
        html.push_str(&format!(
            "<section><h2>{} <small>(realm {})</small></h2>",
            escape(&co.name),
            escape(&realm)
        ));
        html.push_str("<h3>Customers</h3><table><tr><th>Id</th><th>Display name</th><th>Email</th><th>Balance</th></tr>");
        for cu in store::all(&mut c, &realm, "Customer").await? {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                s(&cu["Id"]),
                s(&cu["DisplayName"]),
                s(&cu["PrimaryEmailAddr"]["Address"]),
                money(&cu["Balance"])
            ));
        }
        html.push_str("</table><h3>Invoices</h3><table><tr><th>Id</th><th>DocNumber</th><th>Customer</th><th>Lines</th><th>Total</th><th>Balance</th><th>Record a payment</th></tr>");
        for inv in store::all(&mut c, &realm, "Invoice").await? {
            let lines = inv["Line"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter(|x| x["DetailType"] != "SubTotalLineDetail")
                        .count()
                })
                .unwrap_or(0);
            let balance = entities::scaled(Some(&inv["Balance"])).unwrap_or(0);
            let form = if balance > 0 {
                format!(
                    "<form method=\"post\" action=\"/companies/{}/invoices/{}/payments\"><input name=\"amount\" value=\"{}\" size=\"8\" aria-label=\"Amount\"> <button type=\"submit\">Record payment</button></form>",
                    escape(&realm), s(&inv["Id"]), money(&inv["Balance"])
                )
            } else {
                "paid".to_string()
            };
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                s(&inv["Id"]), s(&inv["DocNumber"]), s(&inv["CustomerRef"]["name"]), lines, money(&inv["TotalAmt"]), money(&inv["Balance"]), form
            ));
        }
        html.push_str("</table><h3>Payments</h3><table><tr><th>Id</th><th>Customer</th><th>Amount</th><th>Applied to</th></tr>");
        for p in store::all(&mut c, &realm, "Payment").await? {
            let linked: Vec<String> = p["Line"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .flat_map(|l| l["LinkedTxn"].as_array().cloned().unwrap_or_default())
                .map(|l| format!("invoice {}", s(&l["TxnId"])))
                .collect();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                s(&p["Id"]),
                s(&p["CustomerRef"]["name"]),
                money(&p["TotalAmt"]),
                linked.join(", ")
            ));
        }
        html.push_str("</table></section>");
    }
    html.push_str("</body></html>");
    Ok(html)
}

/// The payment form.
#[derive(Debug, Deserialize)]
pub struct PaymentForm {
    amount: String,
}

/// `POST /companies/{realm}/invoices/{id}/payments`: records a payment applied to the invoice
/// (queueing its webhook like any change), then shows the page again.
pub async fn record_payment(
    State(sb): State<Sandbox>,
    Path((realm, id)): Path<(String, String)>,
    Form(f): Form<PaymentForm>,
) -> Response {
    let amount = match f.amount.trim().parse::<f64>() {
        Ok(a) if a > 0.0 && a.is_finite() => entities::scaled(Some(&json!(a))).unwrap_or(0),
        _ => {
            return message(
                &sb,
                StatusCode::BAD_REQUEST,
                "The amount must be a positive number such as 12.50.",
            )
            .await
        }
    };
    let result = async {
        let mut tx = sb.inner.db.begin().await?;
        let now = clock::now();
        let invoice = entities::read(&mut tx, &realm, "Invoice", &id).await?;
        let body = json!({
            "CustomerRef": { "value": invoice["CustomerRef"]["value"] },
            "TotalAmt": entities::amount(amount),
            "Line": [{ "Amount": entities::amount(amount), "LinkedTxn": [{ "TxnId": id, "TxnType": "Invoice" }] }]
        });
        entities::create(&mut tx, &realm, "Payment", body, now).await?;
        tx.commit().await?;
        Ok::<_, super::fault::Fail>(())
    }
    .await;
    sb.inner.wake.notify_one();
    match result {
        Ok(()) => Redirect::to("/").into_response(),
        Err(super::fault::Fail::Validation { detail, .. }) => {
            message(&sb, StatusCode::BAD_REQUEST, &detail).await
        }
        Err(_) => {
            message(
                &sb,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The sandbox could not record the payment.",
            )
            .await
        }
    }
}

async fn message(sb: &Sandbox, status: StatusCode, m: &str) -> Response {
    match render(sb, Some(m)).await {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, m.to_string()).into_response(),
    }
}
