//! erp-bridge: keeps a B2B commerce platform's customers, orders and payments in step with each
//! tenant's QuickBooks Online or NetSuite account.
//!
//! One crate, two builds: `ssr` is the axum server (pages, server functions, JSON API, workers);
//! `hydrate` is the wasm that makes the server-rendered pages interactive in the browser.
//! Modules shared by both builds (`app`, `ui`, `api`, `domain`, `error`) hold no server-only code;
//! everything that touches the database, the network or secrets lives in `server`.

pub mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for end-to-end tests: the wasm has taken over the page.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
