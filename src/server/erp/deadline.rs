//! A delivery's deadline that does not count time spent waiting on our own pacing.
//!
//! A connector paces its calls to the ERP's published limits (QuickBooks: 500 calls and 40
//! batch calls a minute per company; NetSuite: a few concurrent requests per account) and waits
//! out a 429's Retry-After. Neither is the ERP failing to answer, and the ruling of DESIGN § 14
//! is that pacing waits cost nothing: no attempt charged, no breaker failure. So the per-event
//! deadline runs on time *outside* pacing: the connector wraps each such wait in [`paced`], and
//! [`within`] moves its deadline on by whatever the code under it spent there. Without this, a
//! bulk whose calls queue behind the pacer (200 paid orders are 14 batch calls at 40 a minute)
//! would fail its later events with "no answer within 45 s" though nothing was sent late.
//!
//! The ledger is task-local: the worker's hand-over, the events inside it and the connector's
//! calls all run in one task, so nested deadlines see the same pacing. Overlapping waits of one
//! task count once (the wall time during which at least one was waiting).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

tokio::task_local! {
    static LEDGER: Shared;
}

/// A task's ledger and the signal that its last pacing wait ended.
#[derive(Clone, Default)]
struct Shared {
    ledger: Arc<Mutex<Ledger>>,
    idle: Arc<Notify>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Time spent in pacing waits by the current task.
#[derive(Debug, Default)]
struct Ledger {
    /// Finished waits.
    total: Duration,
    /// Waits in progress, and since when at least one has been.
    waiting: usize,
    since: Option<Instant>,
}

impl Ledger {
    /// All pacing time up to `now`, counting a wait still in progress.
    fn paced(&self, now: Instant) -> Duration {
        self.total
            + self
                .since
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }
}

/// Ends a pacing wait, also when the waiting future is dropped.
struct Waiting(Shared);

impl Drop for Waiting {
    fn drop(&mut self) {
        let idle = {
            let mut l = self.0.lock();
            l.waiting = l.waiting.saturating_sub(1);
            if l.waiting == 0 {
                if let Some(since) = l.since.take() {
                    l.total += Instant::now().saturating_duration_since(since);
                }
            }
            l.waiting == 0
        };
        if idle {
            self.0.idle.notify_waiters();
        }
    }
}

/// Runs `wait` — for a rate window, a Retry-After pause, a concurrency slot — without it
/// counting against the enclosing [`within`]'s deadline. Outside any `within`, just runs it.
pub async fn paced<F: Future>(wait: F) -> F::Output {
    let Ok(shared) = LEDGER.try_with(Shared::clone) else {
        return wait.await;
    };
    {
        let mut l = shared.lock();
        if l.waiting == 0 {
            l.since = Some(Instant::now());
        }
        l.waiting += 1;
    }
    let _waiting = Waiting(shared);
    wait.await
}

/// Runs `work` for at most `limit` of time not spent in [`paced`] waits; `None` when it ran
/// past that (and was dropped). When the limit is reached during a pacing wait, it waits for
/// that wait to end (without waking in between) and then grants what was left of the limit.
pub async fn within<F: Future>(limit: Duration, work: F) -> Option<F::Output> {
    // A nested deadline shares the enclosing one's ledger, so both see the same pacing.
    let shared = LEDGER.try_with(Shared::clone).unwrap_or_default();
    let work = LEDGER.scope(shared.clone(), work);
    tokio::pin!(work);
    let start = Instant::now();
    let paced_at_start = shared.lock().paced(start);
    // Time used so far: elapsed, less what was spent in pacing waits.
    let used = |now: Instant| {
        let paced = shared.lock().paced(now).saturating_sub(paced_at_start);
        now.saturating_duration_since(start).saturating_sub(paced)
    };
    let mut deadline = start + limit;
    loop {
        tokio::select! {
            out = &mut work => return Some(out),
            _ = tokio::time::sleep_until(deadline) => {}
        }
        let now = Instant::now();
        let used_now = used(now);
        if used_now < limit {
            deadline = now + (limit - used_now);
            continue;
        }
        // Out of time unless a pacing wait is what is running: then wait for it to end.
        let idle = shared.idle.notified();
        tokio::pin!(idle);
        idle.as_mut().enable();
        if shared.lock().waiting == 0 {
            return None;
        }
        tokio::select! {
            out = &mut work => return Some(out),
            _ = idle => {}
        }
        let now = Instant::now();
        deadline = now + limit.saturating_sub(used(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::sleep;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn time_waiting_on_pacing_is_not_counted() {
        let out = within(MS * 150, async {
            paced(sleep(MS * 400)).await;
            sleep(MS * 50).await;
            paced(sleep(MS * 200)).await;
            "answered"
        })
        .await;
        assert_eq!(out, Some("answered"));
    }

    #[tokio::test]
    async fn work_past_the_deadline_still_times_out_after_pacing() {
        let started = Instant::now();
        let out = within(MS * 150, async {
            paced(sleep(MS * 300)).await;
            sleep(MS * 2_000).await;
        })
        .await;
        assert_eq!(out, None);
        // Cut at 300 ms of pacing + 150 ms of work, not at 150 ms and not after the 2 s.
        let took = started.elapsed();
        assert!(took >= MS * 450 && took < MS * 1_500, "{took:?}");
    }

    #[tokio::test]
    async fn a_wait_in_progress_at_the_deadline_moves_it_on() {
        assert_eq!(within(MS * 100, paced(sleep(MS * 500))).await, Some(()));
    }

    #[tokio::test]
    async fn after_a_wait_that_outlasts_the_deadline_only_the_rest_of_the_limit_is_left() {
        // 60 ms used, then a 300 ms wait across the deadline: 40 ms are left afterwards.
        let enough = within(MS * 100, async {
            sleep(MS * 60).await;
            paced(sleep(MS * 300)).await;
            sleep(MS * 10).await;
        });
        assert_eq!(enough.await, Some(()));
        let started = Instant::now();
        let too_much = within(MS * 100, async {
            sleep(MS * 60).await;
            paced(sleep(MS * 300)).await;
            sleep(MS * 400).await;
        });
        assert_eq!(too_much.await, None);
        let took = started.elapsed();
        assert!(took >= MS * 400 && took < MS * 700, "{took:?}");
    }

    #[tokio::test]
    async fn overlapping_waits_count_once() {
        // Two waits side by side for 300 ms, then 250 ms of work: 250 ms past a 150 ms limit.
        let out = within(MS * 150, async {
            tokio::join!(paced(sleep(MS * 300)), paced(sleep(MS * 300)));
            sleep(MS * 250).await;
        })
        .await;
        assert_eq!(out, None);
    }

    #[tokio::test]
    async fn nested_deadlines_see_the_same_pacing() {
        // The inner limit alone would pass; the outer one is shorter than the work inside.
        let out = within(MS * 150, async {
            within(MS * 1_000, async {
                paced(sleep(MS * 300)).await;
                sleep(MS * 400).await;
            })
            .await
        })
        .await;
        assert_eq!(out, None);
        let out = within(MS * 500, async {
            within(MS * 500, async {
                paced(sleep(MS * 600)).await;
                sleep(MS * 100).await;
            })
            .await
        })
        .await;
        assert_eq!(out, Some(Some(())));
    }

    #[tokio::test]
    async fn pacing_outside_any_deadline_just_waits() {
        let started = Instant::now();
        paced(sleep(MS * 20)).await;
        assert!(started.elapsed() >= MS * 20);
    }
}
