//! Errors of the service layer: a storage failure or an unexpected one becomes an [`AppError`]
//! whose client-facing text carries only a reference id; the cause is logged once, here.

use crate::error::AppError;
use crate::server::store::StoreError;

/// Logs `err` with a fresh reference id and returns the `Internal` error carrying that id.
pub fn internal(err: impl std::fmt::Display) -> AppError {
    let reference = new_reference();
    tracing::error!(%reference, error = %err, "internal error");
    AppError::Internal { reference }
}

/// Maps a storage failure: an unreachable database is `Unavailable`; text PostgreSQL cannot
/// store (a NUL character: SQLSTATE 22021) is the caller's `BadRequest`; anything else `Internal`.
pub fn store(err: StoreError) -> AppError {
    if let StoreError::Sqlx(sqlx::Error::Database(db)) = &err {
        if db.code().as_deref() == Some("22021") {
            return AppError::BadRequest("Text may not contain NUL (\\u0000) characters.".into());
        }
    }
    match &err {
        StoreError::Sqlx(
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_),
        ) => {
            tracing::error!(error = %err, "database unavailable");
            AppError::Unavailable
        }
        _ => internal(err),
    }
}

/// A short random id that ties a 500 shown to a user to one server log line.
pub fn new_reference() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}
