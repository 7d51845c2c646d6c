//! Customers and products: validation, RBAC, and the outbox event in the same transaction.

use serde_json::json;
use uuid::Uuid;

use super::paging::Paging;
use super::sync_status;
use crate::domain::commerce::{
    Customer, CustomerInput, Page, Product, ProductInput, MAX_NAME_CHARS, MAX_SKU_CHARS,
    MAX_UNIT_PRICE,
};
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::outbox::{self, events, NewEvent};
use crate::server::service::errors::store;
use crate::server::store::{audit, customers, products, Db, StoreError};
use crate::server::time;

fn validate_customer(c: &CustomerInput) -> Result<(), AppError> {
    if c.name.trim().is_empty() || c.name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(
            "A customer needs a name of 1 to 200 characters.".into(),
        ));
    }
    if let Some(email) = c.email.as_deref().filter(|e| !e.is_empty()) {
        if !email.contains('@') {
            return Err(AppError::BadRequest(format!(
                "{email:?} is not an email address."
            )));
        }
    }
    Ok(())
}

/// Creates a customer and raises `CustomerCreated` in the same transaction.
pub async fn create(db: &Db, p: &Principal, input: CustomerInput) -> Result<Customer, AppError> {
    p.require(Policy::ManageCommerce)?;
    validate_customer(&input)?;
    let now = time::now();
    let mut tx = db.begin().await.map_err(store)?;
    let customer = customers::create(&mut tx, p.tenant_id, &input, now)
        .await
        .map_err(store)?;
    raise(&mut tx, p, events::CUSTOMER_CREATED, &customer, None).await?;
    tx.commit().await.map_err(store)?;
    get(db, p, customer.id).await
}

/// Replaces a customer's fields and raises `CustomerUpdated` in the same transaction.
pub async fn update(
    db: &Db,
    p: &Principal,
    id: Uuid,
    input: CustomerInput,
) -> Result<Customer, AppError> {
    p.require(Policy::ManageCommerce)?;
    validate_customer(&input)?;
    let before = customers::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    let now = time::now();
    let mut tx = db.begin().await.map_err(store)?;
    let customer = customers::update(&mut tx, p.tenant_id, id, &input, now)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    raise(
        &mut tx,
        p,
        events::CUSTOMER_UPDATED,
        &customer,
        Some(&before),
    )
    .await?;
    tx.commit().await.map_err(store)?;
    get(db, p, id).await
}

async fn raise(
    tx: &mut crate::server::store::Tx,
    p: &Principal,
    event_type: &'static str,
    c: &Customer,
    before: Option<&Customer>,
) -> Result<(), AppError> {
    let now = time::now();
    let event = NewEvent {
        event_type,
        entity_type: "Customer",
        entity_id: c.id,
        version: c.version,
        payload: json!({ "customer": c }),
        correlation_id: None,
        origin: None,
    };
    outbox::enqueue(tx, p.tenant_id, &event, now)
        .await
        .map_err(store)?;
    let audit_event = audit::AuditEvent {
        tenant_id: Some(p.tenant_id),
        actor_kind: p.actor.kind().into(),
        actor_id: Some(p.actor.id().to_string()),
        action: if before.is_some() {
            "customer.updated".into()
        } else {
            "customer.created".into()
        },
        entity_type: "Customer".into(),
        entity_id: c.id.to_string(),
        order_id: None,
        before_json: before.map(|b| json!(b).to_string()),
        after_json: Some(json!(c).to_string()),
        request_id: None,
        created_at: now,
    };
    audit::record(tx, &audit_event).await.map_err(store)
}

/// One customer with its sync badges.
pub async fn get(db: &Db, p: &Principal, id: Uuid) -> Result<Customer, AppError> {
    p.require(Policy::ViewCommerce)?;
    let mut c = customers::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)?;
    c.sync = sync_status::badges(db, p, "Customer", id).await?;
    Ok(c)
}

/// A page of customers (with badges).
pub async fn list(
    db: &Db,
    p: &Principal,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<Customer>, AppError> {
    p.require(Policy::ViewCommerce)?;
    let paging = Paging::new(page, per_page);
    let (Paging { page, per_page }, offset) = (paging, paging.offset());
    let (mut items, total) = customers::list(db, p.tenant_id, per_page, offset)
        .await
        .map_err(store)?;
    for c in &mut items {
        c.sync = sync_status::badges(db, p, "Customer", c.id).await?;
    }
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

fn validate_product(input: &ProductInput) -> Result<String, AppError> {
    if input.sku.trim().is_empty()
        || input.sku.chars().count() > MAX_SKU_CHARS
        || input.name.trim().is_empty()
        || input.name.chars().count() > MAX_NAME_CHARS
    {
        return Err(AppError::BadRequest(format!(
            "A product needs a SKU (up to {MAX_SKU_CHARS} characters) and a name (up to {MAX_NAME_CHARS})."
        )));
    }
    if !(0..=MAX_UNIT_PRICE).contains(&input.unit_price) {
        return Err(AppError::BadRequest(format!(
            "The unit price must be between 0 and {MAX_UNIT_PRICE} (minor units)."
        )));
    }
    currency(input.currency.as_deref())
}

/// A currency code as the API takes it: an upper-case ISO 4217 code; USD by default.
pub fn currency(code: Option<&str>) -> Result<String, AppError> {
    crate::domain::money::strict_code(code.unwrap_or("USD")).map_err(AppError::BadRequest)
}

fn duplicate_sku(e: StoreError, sku: &str) -> AppError {
    match e {
        StoreError::Duplicate(_) => {
            AppError::Conflict(format!("A product with SKU {sku} already exists."))
        }
        other => store(other),
    }
}

/// Creates a product.
pub async fn create_product(
    db: &Db,
    p: &Principal,
    input: ProductInput,
) -> Result<Product, AppError> {
    p.require(Policy::ManageCatalog)?;
    let cur = validate_product(&input)?;
    let mut tx = db.begin().await.map_err(store)?;
    let product = products::create(
        &mut tx,
        p.tenant_id,
        input.sku.trim(),
        input.name.trim(),
        input.unit_price,
        &cur,
        time::now(),
    )
    .await
    .map_err(|e| duplicate_sku(e, &input.sku))?;
    tx.commit().await.map_err(store)?;
    Ok(product)
}

/// Updates a product.
pub async fn update_product(
    db: &Db,
    p: &Principal,
    id: Uuid,
    input: ProductInput,
) -> Result<Product, AppError> {
    p.require(Policy::ManageCatalog)?;
    let cur = validate_product(&input)?;
    let mut tx = db.begin().await.map_err(store)?;
    let fields = (
        input.sku.trim(),
        input.name.trim(),
        input.unit_price,
        cur.as_str(),
    );
    let product = products::update(&mut tx, p.tenant_id, id, fields, time::now())
        .await
        .map_err(|e| duplicate_sku(e, &input.sku))?
        .ok_or(AppError::NotFound)?;
    tx.commit().await.map_err(store)?;
    Ok(product)
}

/// One product.
pub async fn get_product(db: &Db, p: &Principal, id: Uuid) -> Result<Product, AppError> {
    p.require(Policy::ViewCommerce)?;
    products::get(db, p.tenant_id, id)
        .await
        .map_err(store)?
        .ok_or(AppError::NotFound)
}

/// A page of products.
pub async fn list_products(
    db: &Db,
    p: &Principal,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Page<Product>, AppError> {
    p.require(Policy::ViewCommerce)?;
    let paging = Paging::new(page, per_page);
    let (Paging { page, per_page }, offset) = (paging, paging.offset());
    let (items, total) = products::list(db, p.tenant_id, per_page, offset)
        .await
        .map_err(store)?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}
