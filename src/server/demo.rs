//! Demo mode's seed data: a demo tenant with one user per role and a few customers. Idempotent:
//! a second start finds the tenant and seeds nothing.

use secrecy::SecretString;

use crate::domain::Role;
use crate::error::AppError;
use crate::server::http::errors::store;
use crate::server::service::{tenants as tenant_service, users as user_service};
use crate::server::store::{customers, tenants, Db};
use crate::server::time;

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

/// The start-up banner listing the demo credentials.
pub fn banner(addr: &str) -> String {
    let mut s = format!(
        "\n  erp-bridge demo is running at http://{addr}\n  \
         WARNING: demo mode uses a published master key and password. Never use it with real data.\n\n  \
         Sign in as (password for all: {DEMO_PASSWORD}):\n"
    );
    for (role, email) in DEMO_USERS {
        s.push_str(&format!("    {:<14} {email}\n", role.label()));
    }
    s
}
