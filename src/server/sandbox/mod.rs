//! Local look-alikes of the ERPs we connect to, built from `shared/reference/`. They are part of
//! the product: `serve --demo` starts them in-process, `erp-bridge sandbox` runs them alone, and
//! the tests and benchmarks talk to them over real HTTP exactly as the connectors talk to the
//! real services.

pub mod guard;
pub mod netsuite;
pub mod quickbooks;

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Opens (creating if needed) a sandbox's own SQLite file with its schema. One connection:
/// each request is applied atomically and in order, as one company's books would be.
pub(crate) async fn open_db(
    path: &std::path::Path,
    schema: &[&str],
) -> Result<sqlx::SqlitePool, sqlx::Error> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    for stmt in schema {
        sqlx::query(stmt).execute(&pool).await?;
    }
    Ok(pool)
}

/// Escapes text for the sandboxes' HTML pages.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A started sandbox.
pub struct SandboxHandle {
    /// `http://127.0.0.1:port`.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    /// Serves `app` on `listener` until stopped.
    pub(crate) fn serve(
        listener: TcpListener,
        app: axum::Router,
        name: &'static str,
    ) -> std::io::Result<SandboxHandle> {
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let mut serve_stop = stop_rx;
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = serve_stop.wait_for(|s| *s).await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %err, sandbox = name, "sandbox server failed");
            }
        });
        Ok(SandboxHandle {
            base_url: format!("http://{addr}"),
            addr,
            stop,
            tasks: vec![server],
        })
    }

    /// A receiver that turns true when the sandbox stops (for its background tasks).
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Waits for `task` too when stopping.
    pub(crate) fn also(&mut self, task: tokio::task::JoinHandle<()>) {
        self.tasks.push(task);
    }

    /// Stops serving and the background tasks.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Serves until the process is asked to stop (the `sandbox` command).
    pub async fn wait(self, shutdown: impl std::future::Future<Output = ()>) {
        shutdown.await;
        self.stop().await;
    }
}
