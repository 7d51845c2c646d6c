//! Items out: the product behind an order line becomes a QuickBooks Item the first time an
//! invoice needs it; an Item of the same name is adopted unless another product holds it.

use serde_json::json;

use super::{clip, decimal, id_of, quote, Call};
use crate::domain::commerce::OrderItem;
use crate::server::erp::quickbooks::fault::FaultClass;
use crate::server::erp::DeliveryError;

/// Item names cannot contain colons (QuickBooks uses them for sub-items) and are at most 100
/// characters.
fn item_name(sku: &str) -> String {
    clip(&sku.replace(':', "-"), 100)
}

/// Makes sure the product behind an order line exists as a QuickBooks Item; returns its id.
/// `currency`: the order's, in which the item's UnitPrice is given.
pub(super) async fn sync_item(
    call: &Call<'_>,
    line: &OrderItem,
    currency: &str,
) -> Result<String, DeliveryError> {
    if let Some(m) = call.mapped("Product", line.product_id).await? {
        return Ok(m.external_id);
    }
    let name = item_name(&line.sku);
    let find = || async {
        let stmt = format!("select * from Item where Name = {}", quote(&name));
        Ok::<_, DeliveryError>(call.query_one("Item", &stmt).await?.into_iter().next())
    };
    if let Some(found) = find().await? {
        let id = id_of(&found)?;
        if call
            .taken("Product", &id)
            .await?
            .is_none_or(|o| o == line.product_id.to_string())
        {
            call.map("Product", line.product_id, &found).await?;
            return Ok(id);
        }
        return Err(DeliveryError::permanent(format!(
            "the QuickBooks item {name:?} belongs to another product"
        )));
    }
    let accounts = call
        .query_one(
            "Account",
            "select * from Account where AccountType = 'Income' maxresults 1",
        )
        .await?;
    let account = accounts.first().ok_or_else(|| {
        DeliveryError::permanent("the QuickBooks company has no income account for new items")
    })?;
    let body = json!({
        "Name": name, "Sku": clip(&line.sku, 100), "Description": clip(&line.description, 4000), "Type": "Service",
        "UnitPrice": decimal(line.unit_price, currency),
        "IncomeAccountRef": { "value": account["Id"], "name": account["Name"] }
    });
    match call
        .write("Item", &body, &format!("item-{}", line.product_id.simple()))
        .await
    {
        Ok(doc) => {
            call.map("Product", line.product_id, &doc).await?;
            id_of(&doc)
        }
        Err(e) if e.class() == Some(FaultClass::DuplicateName) || e.write_outcome_unknown() => {
            match find().await? {
                Some(found) => {
                    call.map("Product", line.product_id, &found).await?;
                    id_of(&found)
                }
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}
