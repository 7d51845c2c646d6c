//! Demo mode's seed data: a demo tenant with one user per role and a few customers. Idempotent:
//! a second start finds the tenant and seeds nothing.

use secrecy::SecretString;

use crate::domain::Role;
use crate::error::AppError;
use crate::server::http::errors::store;
use crate::server::service::{tenants as tenant_service, users as user_service};
use crate::server::store::{customers, tenants, Db};
use crate::server::time;

/// The webhook verifier token shared by demo mode and the QuickBooks emulator (demo only).
pub const DEMO_QBO_WEBHOOK_VERIFIER_TOKEN: &str = "erp-bridge-demo-verifier";

/// The OAuth client id shared by demo mode and the QuickBooks sandbox (demo only).
pub const DEMO_QBO_CLIENT_ID: &str = "erp-bridge-demo-client";

/// The OAuth client secret shared by demo mode and the QuickBooks sandbox (demo only).
pub const DEMO_QBO_CLIENT_SECRET: &str = "erp-bridge-demo-secret";

/// The NetSuite sandbox account the demo connects to (demo only; documented in the README).
pub const DEMO_NS_ACCOUNT: &str = "1234567_SB1";
/// The demo NetSuite integration's consumer key and secret, and the TBA token's id and secret
/// registered for [`DEMO_NS_ACCOUNT`] in the sandbox (demo only; documented in the README).
pub const DEMO_NS_TBA: [&str; 4] = [
    "erp-bridge-demo-consumer-key",
    "erp-bridge-demo-consumer-secret",
    "erp-bridge-demo-token-id",
    "erp-bridge-demo-token-secret",
];

/// The password of every demo user (printed at start-up and in the README; demo only).
pub const DEMO_PASSWORD: &str = "erp-bridge-demo";

/// The demo users: role and email.
pub const DEMO_USERS: [(Role, &str); 4] = [
    (Role::Admin, "admin@demo.example"),
    (Role::SalesManager, "manager@demo.example"),
    (Role::SalesRep, "rep@demo.example"),
    (Role::Customer, "customer@demo.example"),
];

const DEMO_CUSTOMERS: [(&str, &str); 3] = [
    ("Acme Supplies", "orders@acme.example"),
    ("Globex Distribution", "purchasing@globex.example"),
    ("Initech Wholesale", "ap@initech.example"),
];

/// Seeds the demo tenant unless it exists. Returns whether it seeded.
pub async fn seed(db: &Db) -> Result<bool, AppError> {
    if tenants::find_by_slug(db, "demo")
        .await
        .map_err(store)?
        .is_some()
    {
        return Ok(false);
    }
    let tenant = tenant_service::create(db, "demo", "Demo Distribution Co.").await?;
    let mut tx = db.begin().await.map_err(store)?;
    let mut first_number = None;
    for (name, email) in DEMO_CUSTOMERS {
        let new = customers::NewCustomer {
            tenant_id: tenant.id,
            name: name.to_string(),
            email: Some(email.to_string()),
            phone: None,
        };
        let (_, number) = customers::insert(&mut tx, &new, time::now())
            .await
            .map_err(store)?;
        first_number.get_or_insert(number);
    }
    tx.commit().await.map_err(store)?;
    seed_orders(db, tenant.id).await?;
    for (role, email) in DEMO_USERS {
        let input = user_service::NewUserInput {
            email: email.to_string(),
            display_name: Some(format!("Demo {}", role.label())),
            role,
            customer_number: (role == Role::Customer).then_some(first_number).flatten(),
            password: SecretString::from(DEMO_PASSWORD),
        };
        user_service::insert_user(db, tenant.id, input, "System", "demo-seed").await?;
    }
    Ok(true)
}

/// (customer index, lines of (product index, quantity), shipping, paid).
type DemoOrder = (usize, &'static [(usize, i64)], i64, bool);

/// The demo catalogue: (SKU, name, price in cents). The NetSuite sandbox seeds them as items.
pub const DEMO_PRODUCTS: [(&str, &str, i64); 3] = [
    ("WID-100", "Widget, standard", 1250),
    ("GAD-200", "Gadget, deluxe", 4999),
    ("SPR-300", "Spring pack (50)", 899),
];

/// Demo products and orders (two for the first customer, one of them paid), written through the
/// same services as real ones, so their outbox events are recorded as well.
async fn seed_orders(db: &Db, tenant_id: uuid::Uuid) -> Result<(), AppError> {
    use crate::domain::commerce::{NewOrder, NewOrderItem, ProductInput};
    use crate::server::auth::Principal;
    use crate::server::service::{customers as customer_service, orders as order_service};
    let system = Principal::system(tenant_id);
    let mut products = Vec::new();
    for (sku, name, price) in DEMO_PRODUCTS {
        let input = ProductInput {
            sku: sku.into(),
            name: name.into(),
            unit_price: price,
            currency: None,
        };
        products.push(
            customer_service::create_product(db, &system, input)
                .await?
                .id,
        );
    }
    let customers = customer_service::list(db, &system, Some(1), Some(10))
        .await?
        .items;
    let plan: [DemoOrder; 3] = [
        (0, &[(0, 4), (2, 10)], 1500, true),
        (0, &[(1, 1)], 0, false),
        (1, &[(0, 2), (1, 2)], 2500, false),
    ];
    for (customer, lines, shipping, paid) in plan {
        let items = lines
            .iter()
            .map(|(p, q)| NewOrderItem {
                product_id: products[*p],
                quantity: *q,
                unit_price: None,
            })
            .collect();
        let new = NewOrder {
            customer_id: customers[customer].id,
            shipping_amount: shipping,
            currency: None,
            items,
        };
        let order = order_service::create(db, &system, new).await?;
        if paid {
            order_service::mark_paid(db, &system, order.id).await?;
        }
    }
    Ok(())
}

/// The start-up banner listing the demo credentials.
pub fn banner(addr: &str, sandbox: Option<&str>, netsuite: Option<&str>) -> String {
    let mut s = format!(
        "\n  erp-bridge demo is running at http://{addr}\n  \
         WARNING: demo mode uses a published master key and password. Never use it with real data.\n\n  \
         Sign in as (password for all: {DEMO_PASSWORD}):\n"
    );
    for (role, email) in DEMO_USERS {
        s.push_str(&format!("    {:<14} {email}\n", role.label()));
    }
    if let Some(url) = sandbox {
        s.push_str(&format!(
            "\n  QuickBooks sandbox: {url} (connect it from Integrations; its page lists what it holds)\n"
        ));
    }
    if let Some(url) = netsuite {
        let [key, _, token, _] = DEMO_NS_TBA;
        s.push_str(&format!(
            "  NetSuite sandbox:   {url} (account {DEMO_NS_ACCOUNT}; TBA consumer key {key}, token id {token}; secrets in the README)\n"
        ));
    }
    s
}
