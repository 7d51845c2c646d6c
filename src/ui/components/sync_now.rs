//! "Sync now" for one customer or order, one button per connected ERP (IntegrationsManage).

use leptos::prelude::*;
use uuid::Uuid;

use crate::api::commerce::SyncRecord;
use crate::domain::sync::SyncBadge;

/// The buttons, and what the last press queued.
#[component]
pub fn SyncNow(
    action: ServerAction<SyncRecord>,
    badges: Vec<SyncBadge>,
    entity_type: &'static str,
    id: Uuid,
) -> impl IntoView {
    let result = action.value();
    view! {
        <div class="actions" data-testid="sync-now">
            {badges.into_iter().map(|b| view! {
                <ActionForm action attr:class="inline">
                    <input type="hidden" name="provider" value=b.provider.slug()/>
                    <input type="hidden" name="entity_type" value=entity_type/>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="secondary">{format!("Sync now to {}", b.provider.label())}</button>
                </ActionForm>
            }).collect_view()}
        </div>
        {move || result.get().map(|r| match r {
            Ok(r) if !r.errors.is_empty() => view! { <p class="error" role="alert">{r.errors.join(" ")}</p> }.into_any(),
            Ok(r) if r.queued > 0 => view! { <p class="notice" role="status">"Queued for delivery. The badge changes when the ERP answers."</p> }.into_any(),
            Ok(_) => view! { <p class="notice" role="status">"Already waiting for delivery; nothing more to queue."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
}
