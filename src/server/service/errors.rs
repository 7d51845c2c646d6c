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

/// Maps a storage failure: an unreachable database is `Unavailable`, anything else `Internal`.
pub fn store(err: StoreError) -> AppError {
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
