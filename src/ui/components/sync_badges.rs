//! Sync badges per ERP, with a retry button for failed deliveries where the role may retry, and
//! the alert banner for deliveries whose retries are exhausted.

use leptos::prelude::*;

use crate::api::commerce::RetryFailedSync;
use crate::domain::sync::{SyncBadge, SyncState};

/// The badges of one record.
#[component]
pub fn SyncBadges(
    badges: Vec<SyncBadge>,
    retry: Option<ServerAction<RetryFailedSync>>,
) -> impl IntoView {
    if badges.is_empty() {
        return view! { <span class="badge muted">"No ERP connected"</span> }.into_any();
    }
    badges
        .into_iter()
        .map(|b| {
            let class = format!("badge sync-{}", b.state.as_str());
            let retry_form = match (retry, b.outbox_id) {
                (Some(action), Some(id)) => Some(view! {
                    <ActionForm action attr:class="inline">
                        <input type="hidden" name="outbox_id" value=id.to_string()/>
                        <button type="submit" class="small">"Retry"</button>
                    </ActionForm>
                }),
                _ => None,
            };
            view! {
                <span class="sync-badge" data-provider=b.provider.slug() data-state=b.state.as_str()>
                    <span class=class>{b.state.label(b.provider)}</span>
                    {(b.state == SyncState::Synced).then_some(b.external_id.clone()).flatten().map(|id| match b.mapping_href.clone() {
                        Some(href) => view! {
                            <a class="small" href=href data-testid="erp-id" title="Open the mapping">{format!(" id {id}")}</a>
                        }.into_any(),
                        None => view! { <span class="muted small" data-testid="erp-id">{format!(" id {id}")}</span> }.into_any(),
                    })}
                    {b.detail.map(|d| view! { <span class="muted small">" " {d}</span> })}
                    {retry_form}
                </span>
            }
        })
        .collect_view()
        .into_any()
}

/// A banner when any delivery of the record has exhausted its retries.
#[component]
pub fn AbandonedBanner(badges: Vec<SyncBadge>) -> impl IntoView {
    let abandoned: Vec<String> = badges
        .iter()
        .filter(|b| b.state == SyncState::Abandoned)
        .map(|b| b.provider.label().to_string())
        .collect();
    (!abandoned.is_empty()).then(|| {
        view! {
            <div class="alert" role="alert" data-testid="abandoned-banner">
                "Sync to " {abandoned.join(", ")} " failed and will not be retried automatically. "
                "An admin or sales manager can retry it."
            </div>
        }
    })
}
