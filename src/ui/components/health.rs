//! One ERP's health on the dashboard: sync outcomes per hour (24 h) and webhook events per day
//! (7 days) as server-rendered SVG bar charts — failures hatched, so they read without colour,
//! every bar titled with its numbers and each chart summed up in words — and the last success
//! and failure per kind of record.

use leptos::prelude::*;

use crate::domain::connection::{Bucket, ProviderHealth};

const BAR: f64 = 10.0;
const GAP: f64 = 3.0;
const HEIGHT: f64 = 60.0;

/// A stacked bar chart of `buckets`.
#[component]
fn BarChart(
    id: String,
    label: &'static str,
    buckets: Vec<Bucket>,
    stamp: &'static str,
    ok_word: &'static str,
) -> impl IntoView {
    let max = buckets
        .iter()
        .map(|b| b.ok + b.failed + b.other)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = buckets.len() as f64 * (BAR + GAP);
    let hatch = format!("hatch-{id}");
    let hatch_fill = format!("url(#{hatch})");
    let (ok, failed, other) = buckets.iter().fold((0, 0, 0), |(o, f, x), b| {
        (o + b.ok, f + b.failed, x + b.other)
    });
    let summary = format!("{ok} {ok_word}, {failed} failed, {other} skipped or waiting.");
    let first = buckets
        .first()
        .map(|b| b.start.format(stamp).to_string())
        .unwrap_or_default();
    let last = buckets
        .last()
        .map(|b| b.start.format(stamp).to_string())
        .unwrap_or_default();
    let bars = buckets
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * (BAR + GAP);
            let h = |n: i64| n as f64 / max * HEIGHT;
            let (h_ok, h_failed, h_other) = (h(b.ok), h(b.failed), h(b.other));
            let title = format!(
                "{}: {} {ok_word}, {} failed, {} skipped or waiting",
                b.start.format(stamp),
                b.ok,
                b.failed,
                b.other
            );
            let hatch_fill = hatch_fill.clone();
            view! {
                <g>
                    <title>{title}</title>
                    <rect x=x y=HEIGHT - h_ok width=BAR height=h_ok class="bar-ok"/>
                    <rect x=x y=HEIGHT - h_ok - h_failed width=BAR height=h_failed fill=hatch_fill class="bar-failed"/>
                    <rect x=x y=HEIGHT - h_ok - h_failed - h_other width=BAR height=h_other class="bar-other"/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid=format!("chart-{id}")>
            <figcaption><strong>{label}</strong>" · " <span data-testid="chart-summary">{summary}</span></figcaption>
            <svg viewBox=format!("0 0 {width} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label>
                <defs>
                    <pattern id=hatch width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect width="4" height="4" class="bar-failed-bg"/>
                        <line x1="0" y1="0" x2="0" y2="4" class="bar-failed-line"/>
                    </pattern>
                </defs>
                <line x1="0" y1=HEIGHT x2=width y2=HEIGHT class="axis"/>
                {bars}
            </svg>
            <div class="chart-axis"><span>{first}</span><span>{last}</span></div>
            <p class="legend small">
                <span class="key key-ok"></span>{ok_word}" "
                <span class="key key-failed"></span>"failed (hatched) "
                <span class="key key-other"></span>"skipped or waiting"
            </p>
        </figure>
    }
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "—".into())
}

/// The charts and table of one ERP.
#[component]
pub fn HealthPanel(h: ProviderHealth) -> impl IntoView {
    let slug = h.provider.slug();
    // QuickBooks tells us by webhook (and CDC); NetSuite's changes are pulled (SuiteQL).
    let (events, chart) = match h.provider {
        crate::domain::connection::Provider::QuickBooks => {
            ("webhook events", "Webhook events per day, last 7 days")
        }
        crate::domain::connection::Provider::NetSuite => {
            ("changes pulled", "Changes pulled per day, last 7 days")
        }
    };
    let rate = if h.webhooks_24h == 0 {
        format!("no {events} in the last 24 hours")
    } else {
        format!(
            "{} % of {} {events} processed in the last 24 hours",
            h.webhooks_ok_24h * 100 / h.webhooks_24h,
            h.webhooks_24h
        )
    };
    let auth = match h.auth_failures_24h {
        0 => "no authentication failures".to_string(),
        1 => "1 authentication failure".to_string(),
        n => format!("{n} authentication failures"),
    };
    view! {
        <section class="card health" data-provider=slug data-testid="health">
            <h2>{format!("{} — health", h.provider.label())}</h2>
            <p data-testid="health-summary">{rate}" · "{auth}" (24 h)"</p>
            <div class="charts">
                <BarChart id=format!("{slug}-hourly") label="Deliveries and changes per hour, last 24 h (UTC)" buckets=h.hourly stamp="%H:00" ok_word="went through"/>
                <BarChart id=format!("{slug}-webhooks") label=chart buckets=h.webhooks_daily stamp="%a %d" ok_word="processed"/>
            </div>
            {if h.entities.is_empty() {
                view! { <p class="muted">"No deliveries in the last 7 days."</p> }.into_any()
            } else {
                view! {
                    <div class="table-frame">
                        <table class="table" data-testid="entity-health">
                            <thead><tr><th>"Record type"</th><th>"Last went through (UTC)"</th><th>"Last failure (UTC)"</th></tr></thead>
                            <tbody>
                                {h.entities.into_iter().map(|e| {
                                    let failing = e.last_failure.is_some_and(|f| e.last_success.is_none_or(|s| f > s));
                                    view! {
                                        <tr>
                                            <td>{e.entity_type.clone()}</td>
                                            <td>{when(e.last_success)}</td>
                                            <td class:error=failing>{when(e.last_failure)}{failing.then_some(" (latest)")}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
