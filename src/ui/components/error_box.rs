//! Shows an [`AppError`] in a page, and gives the server response the error's HTTP status.

use leptos::prelude::*;

use crate::error::AppError;

/// The error, with a heading for its kind. During server rendering it also sets the status.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    set_status(error.status_code());
    let heading = match &error {
        AppError::Unauthenticated => "Please sign in",
        AppError::Forbidden => "Not allowed",
        AppError::NotFound => "Not found",
        AppError::Internal { .. } | AppError::Unavailable => "Something went wrong",
        _ => "Check your input",
    };
    let sign_in = matches!(error, AppError::Unauthenticated);
    view! {
        <section class="error-box" role="alert" data-status=error.status_code()>
            <h2>{heading}</h2>
            <p>{error.to_string()}</p>
            {sign_in.then(|| view! { <p><a href="/login">"Sign in"</a></p> })}
        </section>
    }
}

/// Sets the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}
