//! The page for people: each account's customers, sales orders, invoices and customer payments
//! as NetSuite holds them, a *Bill* button per open sales order and a *Record payment* form per
//! open invoice (posted to the guarded `/_sandbox/…` routes), and the login audit trail — where NetSuite tells an administrator why a request was
//! refused, since the API only ever answers "Invalid login attempt".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{billing, store, Sandbox};
use crate::server::sandbox::escape;

fn text(v: &Value) -> String {
    escape(&match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `GET /`.
pub async fn index(State(sb): State<Sandbox>) -> Response {
    match render(&sb).await {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the sandbox could not read its data",
        )
            .into_response(),
    }
}

async fn render(sb: &Sandbox) -> Result<String, sqlx::Error> {
    let mut c = sb.inner.db.acquire().await?;
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>NetSuite sandbox</title>\
         <style>body{font-family:sans-serif;margin:1rem;max-width:72rem}.wrap{overflow-x:auto}\
         table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
         .fail{color:#b42318}form{display:flex;gap:.25rem;margin:0}input{width:6rem}</style></head><body>\
         <h1>NetSuite sandbox</h1><p>What the emulated accounts hold. Bill a sales order and record \
         its customer's payment as an accountant would in NetSuite; erp-bridge's pull finds them.</p>",
    );
    for a in store::accounts(&mut c).await? {
        html.push_str(&format!(
            "<section><h2>{} <small>(account {}{})</small></h2>",
            escape(&a.name),
            escape(&a.account),
            if a.one_world { ", OneWorld" } else { "" }
        ));
        html.push_str("<h3>Customers</h3><div class=\"wrap\"><table><tr><th>Id</th><th>External id</th><th>Name</th><th>Email</th><th>Last modified (UTC)</th></tr>");
        for r in store::all_records(&mut c, &a.account, "customer").await? {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.id,
                escape(r.external_id.as_deref().unwrap_or("")),
                text(&r.doc["companyName"]),
                text(&r.doc["email"]),
                r.last_modified.format("%Y-%m-%d %H:%M:%S")
            ));
        }
        html.push_str("</table></div><h3>Sales orders</h3><div class=\"wrap\"><table><tr><th>Id</th><th>Number</th><th>External id</th><th>Customer</th><th>Lines</th><th>Total</th><th>Status</th><th></th></tr>");
        for r in store::all_records(&mut c, &a.account, "salesOrder").await? {
            let lines = r.doc["item"].as_array().map(Vec::len).unwrap_or(0);
            let action = if r.doc["status"]["id"].as_str()
                == Some(billing::status::PENDING_FULFILLMENT.0)
            {
                format!(
                    "<form method=\"post\" action=\"/_sandbox/accounts/{}/sales-orders/{}/bill\"><button>Bill</button></form>",
                    escape(&a.account),
                    r.id
                )
            } else {
                String::new()
            };
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{lines}</td><td>{:.2}</td><td>{}</td><td>{action}</td></tr>",
                r.id,
                text(&r.doc["tranId"]),
                escape(r.external_id.as_deref().unwrap_or("")),
                text(&r.doc["entity"]["refName"]),
                r.doc["total"].as_f64().unwrap_or(0.0),
                text(&r.doc["status"]["refName"]),
            ));
        }
        html.push_str("</table></div><h3>Invoices</h3><div class=\"wrap\"><table><tr><th>Id</th><th>Number</th><th>Created from</th><th>Customer</th><th>Total</th><th>Remaining</th><th>Status</th><th></th></tr>");
        for r in store::all_records(&mut c, &a.account, "invoice").await? {
            let remaining = r.doc["amountRemaining"].as_f64().unwrap_or(0.0);
            let action = if remaining > 0.0 {
                format!(
                    "<form method=\"post\" action=\"/_sandbox/accounts/{}/invoices/{}/payments\">\
                     <input name=\"amount\" aria-label=\"Amount\" value=\"{remaining:.2}\" inputmode=\"decimal\"><button>Record payment</button></form>",
                    escape(&a.account),
                    r.id
                )
            } else {
                String::new()
            };
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{remaining:.2}</td><td>{}</td><td>{action}</td></tr>",
                r.id,
                text(&r.doc["tranId"]),
                text(&r.doc["createdFrom"]["refName"]),
                text(&r.doc["entity"]["refName"]),
                r.doc["total"].as_f64().unwrap_or(0.0),
                text(&r.doc["status"]["refName"]),
            ));
        }
        html.push_str("</table></div><h3>Customer payments</h3><div class=\"wrap\"><table><tr><th>Id</th><th>Number</th><th>Customer</th><th>Amount</th><th>Applied to</th></tr>");
        for r in store::all_records(&mut c, &a.account, "customerPayment").await? {
            let applied: Vec<String> = r.doc["apply"]
                .as_array()
                .map(|l| l.iter().map(|l| text(&l["doc"]["refName"])).collect())
                .unwrap_or_default();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                r.id,
                text(&r.doc["tranId"]),
                text(&r.doc["customer"]["refName"]),
                r.doc["payment"].as_f64().unwrap_or(0.0),
                applied.join(", "),
            ));
        }
        html.push_str("</table></div></section>");
    }
    html.push_str("<section><h2>Login audit trail</h2><p>The latest requests refused (and tokens granted), with the reason NetSuite records.</p>\
        <div class=\"wrap\"><table><tr><th>When (UTC)</th><th>Account</th><th>Method</th><th>Status</th><th>Detail</th></tr>");
    for l in store::audit_trail(&mut c, 50).await? {
        let class = if l.status == "Failure" {
            " class=\"fail\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td{class}>{}</td><td>{}</td></tr>",
            escape(
                &chrono::DateTime::parse_from_rfc3339(&l.at)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|_| l.at.clone())
            ),
            escape(l.account.as_deref().unwrap_or("")),
            escape(&l.method),
            escape(&l.status),
            escape(&l.detail)
        ));
    }
    html.push_str("</table></div></section></body></html>");
    Ok(html)
}
