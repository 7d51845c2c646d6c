//! Input extractors whose rejections are [`AppError::BadRequest`] with a message saying what was
//! wrong, in our JSON error shape, instead of axum's plain-text rejections.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body. JSON has one number type, and JSON Schema calls `3.0` an integer: a whole number
/// written with a fraction is read as that integer wherever an integer is expected.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let mut value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(JsonRejection::MissingJsonContentType(_)) => {
                return Err(AppError::BadRequest(
                    "Send the body as JSON (Content-Type: application/json).".into(),
                ))
            }
            Err(e) => {
                return Err(AppError::BadRequest(format!(
                    "Invalid JSON body: {}",
                    e.body_text()
                )))
            }
        };
        whole_numbers_as_integers(&mut value);
        serde_json::from_value(value)
            .map(ValidJson)
            .map_err(|e| AppError::BadRequest(format!("Invalid JSON body: {e}")))
    }
}

/// Rewrites every number that is a whole number within i64 (`3.0`, `1e3`) as an integer.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // i64::MAX is not exactly representable; stay strictly below 2^63.
                if f.fract() == 0.0
                    && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
                {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = f as i64;
                    *value = Value::from(whole);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
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

#[cfg(test)]
mod tests {
    use super::whole_numbers_as_integers;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers_and_others_stay() {
        let mut v = json!({ "a": 3.0, "b": [1e3, 2.5, -0.0], "c": { "d": 1e300 }, "e": "3.0" });
        whole_numbers_as_integers(&mut v);
        assert_eq!(
            v,
            json!({ "a": 3, "b": [1000, 2.5, 0], "c": { "d": 1e300 }, "e": "3.0" })
        );
    }
}
