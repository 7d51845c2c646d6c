//! Sign-in page: a plain HTML form posted to `/auth/login`, so it works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::ui::components::error_box::set_status;

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.with(|q| {
            q.get("error").map(|key| match key.as_str() {
                "locked" => "Too many failed attempts. The account is locked for a few minutes.",
                "missing" => "Enter your email and password.",
                "unavailable" => "Sign-in is unavailable right now. Try again shortly.",
                _ => "The email or password is not right.",
            })
        })
    };
    if query.with_untracked(|q| q.get("error").is_some()) {
        set_status(401);
    }
    let signed_out = move || query.with(|q| q.get("signed_out").is_some());
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/".to_string()));
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {move || signed_out().then(|| view! { <p class="notice">"You have signed out."</p> })}
            {move || error().map(|msg| view! { <p class="error" role="alert">{msg}</p> })}
            <form method="post" action="/auth/login" class="stack">
                <input type="hidden" name="next" prop:value=next/>
                <label>"Email" <input type="email" name="email" autocomplete="username" required/></label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
