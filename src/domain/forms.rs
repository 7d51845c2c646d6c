//! What the staff forms post, as typed: text fields that the server turns into the inputs the
//! services take. A form field left empty means "none"; amounts are typed in major units of the
//! currency and read exactly (see [`super::money::parse_major`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commerce::{Address, CustomerInput, NewOrder, NewOrderItem};
use super::money;

/// How many line rows the order form offers.
pub const ORDER_FORM_LINES: usize = 5;

/// Trimmed text, or `None` when nothing was typed.
pub fn non_empty(text: String) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The new-customer form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerForm {
    /// Display name.
    pub name: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// Billing street.
    #[serde(default)]
    pub line1: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State / region.
    #[serde(default)]
    pub region: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// Country.
    #[serde(default)]
    pub country: String,
}

impl CustomerForm {
    /// The service input; the billing address doubles as the shipping address.
    pub fn into_input(self) -> CustomerInput {
        let address = Address {
            line1: non_empty(self.line1),
            line2: None,
            city: non_empty(self.city),
            region: non_empty(self.region),
            postal_code: non_empty(self.postal_code),
            country: non_empty(self.country),
        };
        CustomerInput {
            name: self.name,
            email: non_empty(self.email),
            phone: non_empty(self.phone),
            billing: address.clone(),
            shipping: address,
        }
    }
}

/// One line row of the order form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderLineForm {
    /// Product id, or empty for an unused row.
    #[serde(default)]
    pub product_id: String,
    /// Quantity as typed.
    #[serde(default)]
    pub quantity: String,
}

/// The new-order form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderForm {
    /// Customer id.
    pub customer_id: String,
    /// Currency code.
    #[serde(default)]
    pub currency: String,
    /// Shipping in major units ("12.50"); empty means none.
    #[serde(default)]
    pub shipping: String,
    /// Line rows; rows without a product are ignored.
    #[serde(default)]
    pub lines: Vec<OrderLineForm>,
}

impl OrderForm {
    /// The service input, or what is wrong, naming the field as the form labels it.
    pub fn into_input(self) -> Result<NewOrder, String> {
        let customer_id = Uuid::parse_str(self.customer_id.trim())
            .map_err(|_| "Customer: choose a customer.".to_string())?;
        let currency = money::currency_code(non_empty(self.currency).as_deref().unwrap_or("USD"))
            .map_err(|e| format!("Currency: {e}"))?;
        let shipping_amount = match non_empty(self.shipping) {
            None => 0,
            Some(text) => {
                money::parse_major(&text, &currency).map_err(|e| format!("Shipping: {e}"))?
            }
        };
        let mut items = Vec::new();
        for (index, line) in self.lines.into_iter().enumerate() {
            let row = index + 1;
            let Some(product) = non_empty(line.product_id) else {
                continue;
            };
            let product_id = Uuid::parse_str(&product)
                .map_err(|_| format!("Line {row}: choose a product from the list."))?;
            let quantity = match non_empty(line.quantity) {
                None => 1,
                Some(q) => q
                    .parse::<i64>()
                    .ok()
                    .filter(|q| (1..=1_000_000).contains(q))
                    .ok_or_else(|| {
                        format!(
                            "Line {row}: the quantity must be a whole number from 1 to 1,000,000."
                        )
                    })?,
            };
            items.push(NewOrderItem {
                product_id,
                quantity,
                unit_price: None,
            });
        }
        if items.is_empty() {
            return Err("Lines: choose at least one product.".into());
        }
        Ok(NewOrder {
            customer_id,
            shipping_amount,
            currency: Some(currency),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, quantity: &str) -> OrderLineForm {
        OrderLineForm {
            product_id: product.into(),
            quantity: quantity.into(),
        }
    }

    #[test]
    fn an_order_form_becomes_an_order_without_its_empty_rows() {
        let product = Uuid::new_v4();
        let customer = Uuid::new_v4();
        let form = OrderForm {
            customer_id: customer.to_string(),
            currency: "jpy".into(),
            shipping: "500".into(),
            lines: vec![line("", "3"), line(&product.to_string(), ""), line("", "")],
        };
        let order = form.into_input().expect("valid");
        assert_eq!(order.customer_id, customer);
        assert_eq!(order.currency.as_deref(), Some("JPY"));
        assert_eq!(order.shipping_amount, 500, "JPY has no decimals");
        assert_eq!(order.items.len(), 1);
        assert_eq!(order.items[0].quantity, 1, "an empty quantity means one");
    }

    #[test]
    fn each_mistake_names_its_field() {
        let product = Uuid::new_v4().to_string();
        let base = OrderForm {
            customer_id: Uuid::new_v4().to_string(),
            currency: "USD".into(),
            shipping: String::new(),
            lines: vec![line(&product, "2")],
        };
        let with = |f: fn(&mut OrderForm)| {
            let mut form = base.clone();
            f(&mut form);
            form.into_input().unwrap_err()
        };
        assert!(with(|f| f.customer_id = String::new()).starts_with("Customer:"));
        assert!(with(|f| f.currency = "XYZ".into()).starts_with("Currency:"));
        assert!(with(|f| f.shipping = "1.234".into()).starts_with("Shipping:"));
        assert!(with(|f| f.lines[0].quantity = "0".into()).starts_with("Line 1:"));
        assert!(with(|f| f.lines[0].quantity = "2.5".into()).starts_with("Line 1:"));
        assert!(with(|f| f.lines[0].product_id = "nope".into()).starts_with("Line 1:"));
        assert!(with(|f| f.lines.clear()).starts_with("Lines:"));
        assert_eq!(base.into_input().expect("valid").items[0].quantity, 2);
    }

    #[test]
    fn a_customer_form_keeps_only_what_was_typed() {
        let input = CustomerForm {
            name: "Acme".into(),
            email: "  ".into(),
            city: " Austin ".into(),
            ..CustomerForm::default()
        }
        .into_input();
        assert_eq!(input.email, None);
        assert_eq!(input.billing.city.as_deref(), Some("Austin"));
        assert_eq!(input.shipping, input.billing);
    }
}
