//! JSON handlers for customers, products, orders and the integration console's delivery
//! operations. Listed in [`super::api::routes`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::{Caller, ValidJson, ValidPath, ValidQuery};
use super::openapi::ErrorBody;
use crate::domain::commerce::{
    Customer, CustomerInput, ItemStatus, NewOrder, NewPayment, Order, OrderUpdate, Page, Product,
    ProductInput,
};
use crate::error::AppError;
use crate::server::service::sync_admin::OutboxItem;
use crate::server::service::{customers, orders, sync_admin, sync_log_view};
use crate::server::state::AppState;

type ApiResult<T> = Result<T, AppError>;

/// `?page=&per_page=`. Out-of-range values are clamped, never refused.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page, from 1 (past 1,000,000 reads as 1,000,000).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub(super) page: Option<i64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) per_page: Option<i64>,
}

/// `?page=&per_page=&status=` of the outbox list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
    /// Only rows in this status.
    #[param(inline)]
    status: Option<sync_admin::OutboxStatus>,
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(PageQuery), responses((status = 200, body = Page<Customer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_customers(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::list(&s.db, &p, q.page, q.per_page).await?))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerInput, responses((status = 201, body = Customer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = Customer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_customer(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::get(&s.db, &p, id).await?))
}

#[utoipa::path(put, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path, description = "Record id")), request_body = CustomerInput, responses((status = 200, body = Customer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_customer(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<CustomerInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::update(&s.db, &p, id, b).await?))
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(PageQuery), responses((status = 200, body = Page<Product>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_products(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        customers::list_products(&s.db, &p, q.page, q.per_page).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = ProductInput, responses((status = 201, body = Product), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = Product), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_product(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::get_product(&s.db, &p, id).await?))
}

#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "products", params(("id" = Uuid, Path, description = "Record id")), request_body = ProductInput, responses((status = 200, body = Product), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn update_product(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<ProductInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(customers::update_product(&s.db, &p, id, b).await?))
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(PageQuery), responses((status = 200, description = "Newest first; a Customer user sees its own orders", body = Page<Order>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_orders(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::list(&s.db, &p, q.page, q.per_page).await?))
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder, responses((status = 201, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "No such customer or product, or a product priced in another currency", body = ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_order(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::get(&s.db, &p, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = Uuid, Path, description = "Record id")), request_body = OrderUpdate, responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The new total would fall below what was paid", body = ErrorBody)))]
pub(super) async fn update_order(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    ValidJson(b): ValidJson<OrderUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::update(&s.db, &p, id, b).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/mark-paid", tag = "orders", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, description = "Paid in full (unchanged if it already was)", body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn mark_paid(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::mark_paid(&s.db, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "orders", params(("id" = Uuid, Path, description = "Record id")), request_body = NewPayment, responses((status = 201, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "More than the balance due", body = ErrorBody)))]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ItemStatusBody {
    status: ItemStatus,
}

#[utoipa::path(patch, path = "/api/v1/orders/{order_id}/items/{item_id}", tag = "orders", params(("order_id" = Uuid, Path), ("item_id" = Uuid, Path)), request_body = ItemStatusBody, responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

#[utoipa::path(get, path = "/api/integrations/outbox", tag = "integrations", params(OutboxQuery), responses((status = 200, body = Page<OutboxItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_outbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<OutboxQuery>,
) -> ApiResult<impl IntoResponse> {
    let status = q.status.map(sync_admin::OutboxStatus::as_str);
    Ok(Json(
        sync_admin::list_outbox(&s.db, &p, status, q.page, q.per_page).await?,
    ))
}

/// The sync log viewer's filters (`GET /api/integrations/logs`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// The ERP.
    #[param(inline, value_type = Option<sync_admin::ProviderSlug>)]
    provider: Option<String>,
    /// Entity type (`Customer`, `Order`, `Payment`, …).
    #[param(max_length = 50)]
    entity_type: Option<String>,
    /// Which way the sync went.
    #[param(inline)]
    direction: Option<sync_log_view::LogDirection>,
    /// Outcome.
    #[param(inline)]
    status: Option<sync_log_view::LogStatus>,
    /// Started at or after (RFC 3339).
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Started before (RFC 3339).
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// Our record's id or the ERP's id, exactly.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
    /// The `cursor` (older) or `prev_cursor` (newer) of an earlier answer, with the same filters;
    /// wins over `page`. Every page read by cursor is as fast as the first.
    #[param(
        max_length = 100,
        pattern = "^[on][0-9]{1,7}-[0-9]{1,19}-[0-9a-f]{32}$"
    )]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/integrations/logs", tag = "integrations", params(LogsQuery), responses((status = 200, description = "Newest first", body = crate::domain::sync::LogPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_logs(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidQuery(q): ValidQuery<LogsQuery>,
) -> ApiResult<impl IntoResponse> {
    let query = sync_log_view::LogQuery {
        provider: q.provider,
        entity_type: q.entity_type,
        direction: q.direction,
        status: q.status,
        from: q.from,
        to: q.to,
        q: q.q,
        page: q.page,
        per_page: q.per_page,
        cursor: q.cursor,
    };
    Ok(Json(sync_log_view::list(&s.db, &p, query).await?))
}

#[utoipa::path(post, path = "/api/integrations/outbox/{id}/retry", tag = "integrations", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = OutboxItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn retry_outbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(sync_admin::retry_outbox(&s.db, &p, id).await?))
}

#[utoipa::path(post, path = "/api/integrations/outbox/{id}/dismiss", tag = "integrations", params(("id" = Uuid, Path, description = "Outbox row id")), request_body(content = Option<sync_admin::DismissInput>, description = "Optional reason, kept in the audit trail"), responses((status = 200, body = OutboxItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn dismiss_outbox(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    // The body is optional: an empty one dismisses without a reason.
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        sync_admin::DismissInput::default()
    } else {
        serde_json::from_slice::<Option<sync_admin::DismissInput>>(&body)
            .map_err(|e| {
                crate::error::AppError::BadRequest(format!("The body is not a dismissal: {e}"))
            })?
            .unwrap_or_default()
    };
    Ok(Json(sync_admin::dismiss(&s.db, &p, id, input).await?))
}

#[utoipa::path(post, path = "/api/integrations/connections/{provider}/breaker/close", tag = "integrations", params(("provider" = inline(sync_admin::ProviderSlug), Path, description = "The ERP")), responses((status = 204, description = "Deliveries resume"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn close_breaker(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
) -> ApiResult<impl IntoResponse> {
    sync_admin::close_breaker(&s.db, &p, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/integrations/logs/{id}/retry", tag = "integrations", params(("id" = Uuid, Path, description = "Record id")), responses((status = 200, body = OutboxItem), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn retry_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(sync_admin::retry_from_log(&s.db, &p, id).await?))
}

#[utoipa::path(post, path = "/api/integrations/sync/{provider}/retry-failed", tag = "integrations", params(("provider" = inline(sync_admin::ProviderSlug), Path, description = "The ERP")), responses((status = 200, body = sync_admin::Requeued), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn retry_failed(
    State(s): State<AppState>,
    Caller(p): Caller,
    ValidPath(provider): ValidPath<String>,
) -> ApiResult<impl IntoResponse> {
    let requeued = sync_admin::retry_failed(&s.db, &p, &provider).await?;
    Ok(Json(sync_admin::Requeued {
        requeued: i64::try_from(requeued).unwrap_or(i64::MAX),
    }))
}
