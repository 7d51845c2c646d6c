//! Input extractors whose rejections are [`AppError::BadRequest`] with a message saying what was
//! wrong, in our JSON error shape, instead of axum's plain-text rejections.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ValidJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::BadRequest(
                "Send the body as JSON (Content-Type: application/json).".into(),
            )),
            Err(e) => Err(AppError::BadRequest(format!(
                "Invalid JSON body: {}",
                e.body_text()
            ))),
        }
    }
}

/// A url-encoded form body.
pub struct ValidForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| ValidForm(v))
            .map_err(|e: FormRejection| {
                AppError::BadRequest(format!("Invalid form: {}", e.body_text()))
            })
    }
}

/// Path parameters.
pub struct ValidPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ValidPath<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ValidPath(v))
            .map_err(|e: PathRejection| {
                AppError::BadRequest(format!("Invalid path: {}", e.body_text()))
            })
    }
}

/// The caller, required: `Unauthenticated` when nobody is signed in.
pub struct Caller(pub crate::server::auth::Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<crate::server::auth::CurrentPrincipal>()
            .ok_or(AppError::Unauthenticated)?
            .required()
            .map(Caller)
    }
}

/// Query-string parameters.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ValidQuery(v))
            .map_err(|e| AppError::BadRequest(format!("Invalid query: {}", e.body_text())))
    }
}
