//! Error pages rendered by the app itself.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ui::components::error_box::ErrorBox;

/// Unknown route: 404.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <ErrorBox error=AppError::NotFound/>
    }
}
