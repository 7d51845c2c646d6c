//! Customers out: an existing QuickBooks customer with the same DisplayName is adopted instead of
//! duplicated (DESIGN § 13); a mapped one gets our current fields by sparse update.

use serde_json::{json, Map, Value};

use super::{checks, clip, id_of, quote, Call};
use crate::domain::commerce::Customer;
use crate::server::erp::quickbooks::fault::FaultClass;
use crate::server::erp::DeliveryError;
use crate::server::store::mappings::Mapping;

fn address(a: &crate::domain::commerce::Address) -> Option<Value> {
    let mut m = Map::new();
    for (key, v) in [
        ("Line1", &a.line1),
        ("Line2", &a.line2),
        ("City", &a.city),
        ("CountrySubDivisionCode", &a.region),
        ("PostalCode", &a.postal_code),
        ("Country", &a.country),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            m.insert(key.into(), json!(v));
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// The display names a customer of ours may have in QuickBooks: its name, or — when another
/// customer had that name — `Name (number)`; both within QuickBooks' 500 characters.
pub fn display_names(name: &str, number: i64) -> [String; 2] {
    [
        clip(name, 500),
        clip(&format!("{} ({number})", clip(name, 480)), 500),
    ]
}

/// The QuickBooks Customer fields we own.
fn customer_body(c: &Customer, display_name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("DisplayName".into(), json!(display_name));
    m.insert("CompanyName".into(), json!(c.name));
    if let Some(e) = c.email.as_deref().filter(|e| !e.is_empty()) {
        m.insert("PrimaryEmailAddr".into(), json!({ "Address": e }));
    }
    if let Some(p) = c.phone.as_deref().filter(|p| !p.is_empty()) {
        m.insert("PrimaryPhone".into(), json!({ "FreeFormNumber": p }));
    }
    if let Some(a) = address(&c.billing) {
        m.insert("BillAddr".into(), a);
    }
    if let Some(a) = address(&c.shipping) {
        m.insert("ShipAddr".into(), a);
    }
    m.insert(
        "Notes".into(),
        json!(format!("erp-bridge customer #{}", c.customer_number)),
    );
    m
}

/// Makes sure the customer exists in QuickBooks and is mapped; with `update`, an already
/// mapped customer gets our current fields. Returns the QuickBooks id and the record written.
pub(super) async fn sync_customer(
    call: &Call<'_>,
    c: &Customer,
    update: bool,
) -> Result<(String, Option<Value>), DeliveryError> {
    if let Some(m) = call.mapped("Customer", c.id).await? {
        if !update {
            return Ok((m.external_id, None));
        }
        checks::customer(c)?;
        let doc = update_customer(call, c, &m).await?;
        call.map("Customer", c.id, &doc).await?;
        return Ok((m.external_id, Some(doc)));
    }
    checks::customer(c)?;
    let [name, other] = display_names(&c.name, c.customer_number);
    if let Some(id) = adopt_customer(call, c, &name).await? {
        return Ok((id, None));
    }
    // The name belongs to a QuickBooks customer another of ours is mapped to: disambiguate.
    let name = if find_customer(call, &name).await?.is_some() {
        other
    } else {
        name
    };
    if let Some(id) = adopt_customer(call, c, &name).await? {
        return Ok((id, None));
    }
    if find_customer(call, &name).await?.is_some() {
        return Err(DeliveryError::permanent(format!(
            "QuickBooks customers named {name:?} already belong to other erp-bridge customers; rename the customer"
        )));
    }
    let body = Value::Object(customer_body(c, &name));
    match call.write("Customer", &body, "customer").await {
        Ok(doc) => {
            call.map("Customer", c.id, &doc).await?;
            Ok((id_of(&doc)?, Some(doc)))
        }
        // Created meanwhile (a race, or our own timed-out create): adopt it if nobody has it.
        Err(e) if e.class() == Some(FaultClass::DuplicateName) || e.write_outcome_unknown() => {
            match adopt_customer(call, c, &name).await? {
                Some(id) => Ok((id, None)),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn find_customer(call: &Call<'_>, name: &str) -> Result<Option<Value>, DeliveryError> {
    let stmt = format!("select * from Customer where DisplayName = {}", quote(name));
    Ok(call.query_one("Customer", &stmt).await?.into_iter().next())
}

/// Maps the QuickBooks customer called `name` to ours, unless another of ours has it.
async fn adopt_customer(
    call: &Call<'_>,
    c: &Customer,
    name: &str,
) -> Result<Option<String>, DeliveryError> {
    let Some(found) = find_customer(call, name).await? else {
        return Ok(None);
    };
    let id = id_of(&found)?;
    match call.taken("Customer", &id).await? {
        Some(owner) if owner != c.id.to_string() => Ok(None),
        _ => {
            call.map("Customer", c.id, &found).await?;
            tracing::info!(tenant_id = %call.tenant_id, realm = %call.realm, qbo_id = %id, "adopted an existing QuickBooks customer with the same name");
            Ok(Some(id))
        }
    }
}

/// A sparse update with the SyncToken the mapping remembers; on a stale token (5010) it reads
/// the record again and retries once. The display name follows ours, keeping the
/// disambiguated form `Name (number)` when that is what QuickBooks has or when the plain name
/// is taken (6240).
async fn update_customer(
    call: &Call<'_>,
    c: &Customer,
    m: &Mapping,
) -> Result<Value, DeliveryError> {
    let id = m.external_id.as_str();
    let [plain, disambiguated] = display_names(&c.name, c.customer_number);
    let remembered: Value = m
        .metadata
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let mut token = m.sync_token.clone();
    let mut current_name = remembered["DisplayName"].as_str().map(str::to_string);
    let (mut display, mut stale_retried) = (None, false);
    for attempt in 1..=3 {
        if token.is_none() || current_name.is_none() {
            let current = call
                .qb
                .client
                .read(&call.realm, &call.token, "Customer", id)
                .await?;
            token = current["SyncToken"].as_str().map(str::to_string);
            current_name = current["DisplayName"].as_str().map(str::to_string);
        }
        let name = display.clone().unwrap_or_else(|| {
            if current_name.as_deref() == Some(disambiguated.as_str()) {
                disambiguated.clone()
            } else {
                plain.clone()
            }
        });
        let mut body = customer_body(c, &name);
        body.insert("Id".into(), json!(id));
        body.insert("SyncToken".into(), json!(token.clone().unwrap_or_default()));
        body.insert("sparse".into(), json!(true));
        let op = format!(
            "customer-update-{}-{attempt}",
            token.as_deref().unwrap_or("0")
        );
        match call.write("Customer", &Value::Object(body), &op).await {
            Ok(doc) => return Ok(doc),
            Err(e) if e.class() == Some(FaultClass::Stale) && !stale_retried => {
                stale_retried = true;
                tracing::info!(tenant_id = %call.tenant_id, realm = %call.realm, qbo_id = %id, "stale SyncToken on customer update; reading again");
                token = None;
            }
            Err(e)
                if e.class() == Some(FaultClass::DuplicateName)
                    && display.is_none()
                    && name != disambiguated =>
            {
                display = Some(disambiguated.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DeliveryError::retryable(
        "the QuickBooks customer kept changing while we updated it",
    ))
}
