//! `AppError`: the one error type that crosses from the server to a client, be it a server
//! function called by the UI, a JSON API caller or a rendered error page.
//!
//! Each variant documents its HTTP status. Internal failures carry only a reference id; the
//! details are logged once on the server under that id and never sent to the client.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// An error a client may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: not signed in, or the session expired.
    #[error("Please sign in.")]
    Unauthenticated,
    /// 403: signed in, but the role does not allow this.
    #[error("You do not have permission to do this.")]
    Forbidden,
    /// 404: no such record in the caller's tenant.
    #[error("Not found.")]
    NotFound,
    /// 400: the input was malformed or invalid; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// 409: the input conflicts with existing data (duplicate email, …).
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed, but the ERP it names refused it (credentials it does not accept);
    /// the message says what to check.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests {
        /// Seconds until another attempt is accepted.
        retry_after_secs: u64,
    },
    /// 503: a dependency (the database) is unavailable right now.
    #[error("The service is temporarily unavailable. Try again shortly.")]
    Unavailable,
    /// 500: something failed on our side; the reference finds the server log entry.
    #[error("Something went wrong on our side (reference {reference}).")]
    Internal {
        /// Correlates the client's message with the server log.
        reference: String,
    },
}

impl AppError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Unprocessable(_) => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable => 503,
            AppError::Internal { .. } => 500,
        }
    }

    /// A stable machine-readable code for JSON clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::Unprocessable(_) => "unprocessable",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable => "unavailable",
            AppError::Internal { .. } => "internal",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    /// Framework-level failures (undecodable arguments, …) are the caller's bad input; the
    /// framework's message names the problem without revealing internals.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::Deserialization(msg)
            | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("Invalid input: {msg}"))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unavailable,
            _ => AppError::Internal {
                reference: "client".to_string(),
            },
        }
    }
}
