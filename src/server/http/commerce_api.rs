//! JSON handlers for customers, products, orders and the integration console's delivery
//! operations. Listed in [`super::api::routes`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{Caller, ValidJson, ValidPath, ValidQuery};
use crate::domain::commerce::{
    CustomerInput, ItemStatus, NewOrder, NewPayment, OrderUpdate, ProductInput,
};
use crate::error::AppError;
use crate::server::service::{customers, orders, sync_admin};
use crate::server::state::AppState;

type ApiResult<T> = Result<T, AppError>;

/// `?page=&per_page=` (and `status=` for the outbox).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
    status: Option<String>,
}

pub(super) async fn list_customers(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::list(&s.db, &p, q.page, q.per_page).await?))
}

pub(super) async fn create_customer(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidJson(b): ValidJson<CustomerInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(customers::create(&s.db, &p, b).await?),
    ))
}

pub(super) async fn get_customer(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::get(&s.db, &p, id).await?))
}

pub(super) async fn update_customer(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<CustomerInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::update(&s.db, &p, id, b).await?))
}

pub(super) async fn list_products(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        customers::list_products(&s.db, &p, q.page, q.per_page).await?,
    ))
}

pub(super) async fn create_product(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidJson(b): ValidJson<ProductInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(customers::create_product(&s.db, &p, b).await?),
    ))
}

pub(super) async fn get_product(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::get_product(&s.db, &p, id).await?))
}

pub(super) async fn update_product(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<ProductInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::update_product(&s.db, &p, id, b).await?))
}

pub(super) async fn list_orders(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::list(&s.db, &p, q.page, q.per_page).await?))
}

pub(super) async fn create_order(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidJson(b): ValidJson<NewOrder>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(orders::create(&s.db, &p, b).await?),
    ))
}

pub(super) async fn get_order(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::get(&s.db, &p, id).await?))
}

pub(super) async fn update_order(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<OrderUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::update(&s.db, &p, id, b).await?))
}

pub(super) async fn mark_paid(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::mark_paid(&s.db, &p, id).await?))
}

pub(super) async fn add_payment(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<NewPayment>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(orders::add_payment(&s.db, &p, id, b).await?),
    ))
}

/// Body of an item status change.
#[derive(Debug, Deserialize)]
pub struct ItemStatusBody {
    status: ItemStatus,
}

pub(super) async fn set_item_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath((order_id, item_id)): ValidPath<(Uuid, Uuid)>,
    ValidJson(b): ValidJson<ItemStatusBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::set_item_status(&s.db, &p, order_id, item_id, b.status).await?,
    ))
}

pub(super) async fn list_outbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        sync_admin::list_outbox(&s.db, &p, q.status.as_deref(), q.page, q.per_page).await?,
    ))
}

pub(super) async fn retry_outbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(sync_admin::retry_outbox(&s.db, &p, id).await?))
}

pub(super) async fn retry_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(sync_admin::retry_from_log(&s.db, &p, id).await?))
}

pub(super) async fn retry_failed(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
) -> ApiResult<impl IntoResponse> {
    let requeued = sync_admin::retry_failed(&s.db, &p, &provider).await?;
    Ok(Json(serde_json::json!({ "requeued": requeued })))
}

pub(super) async fn update_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
    ValidJson(b): ValidJson<sync_admin::SettingsInput>,
) -> ApiResult<impl IntoResponse> {
    sync_admin::update_settings(&s.db, &p, &provider, b).await?;
    Ok(StatusCode::NO_CONTENT)
}
