//! The `erp-bridge` binary: parse the command line, then serve, migrate or administer.

use anyhow::{bail, Context};
use clap::Parser;
use secrecy::SecretString;
use std::io::BufRead;
use std::process::ExitCode;

use erp_bridge::domain::Role;
use erp_bridge::server::config::{
    Cli, Command, DbArgs, SandboxArgs, SandboxCommandArgs, ServeArgs, TenantCommand, UserCommand,
};
use erp_bridge::server::sandbox::{netsuite, quickbooks};
use erp_bridge::server::service::{tenants as tenant_service, users as user_service};
use erp_bridge::server::startup::{redact_url, shutdown_signal, Application, Settings};
use erp_bridge::server::store::{tenants, Db};
use erp_bridge::server::{demo, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => migrate(&db).await,
        Command::User(UserCommand::Add(args)) => add_user(args).await,
        Command::Tenant(TenantCommand::Add(args)) => add_tenant(args).await,
        Command::Sandbox(args) => sandbox(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init_tracing(&args.log_format);
    let mut settings = Settings::from_args(&args)?;
    // Demo mode brings its own QuickBooks unless one was named explicitly.
    let sandbox =
        if args.demo && args.qbo.qbo_emulator_url.is_none() && args.qbo.qbo_environment.is_none() {
            let origin = args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", args.bind));
            let mut config = demo_sandbox_config(&args.sandbox);
            config.webhook_url = Some(format!(
                "{}/api/integrations/quickbooks/webhook",
                origin.trim_end_matches('/')
            ));
            // The demo app is registered with its own sandbox, wherever it is served from.
            config.redirect_uris.push(format!(
                "{}/api/integrations/quickbooks/callback",
                origin.trim_end_matches('/')
            ));
            Some(quickbooks::start(config, args.sandbox.sandbox_bind).await?)
        } else {
            None
        };
    // Demo mode brings its NetSuite too, unless one was named explicitly.
    let netsuite_sandbox = if args.demo && args.netsuite_base_url.is_none() {
        let handle = netsuite::start(
            demo_netsuite_config(&args.sandbox),
            args.sandbox.netsuite_sandbox_bind,
        )
        .await?;
        // Where it really listens (the port may have been 0).
        settings.netsuite_base_url = Some(handle.base_url.clone());
        Some(handle)
    } else {
        None
    };
    let app = Application::build(settings).await?;
    let addr = app.local_addr()?;
    if args.demo {
        demo::seed(&app.state().db)
            .await
            .map_err(|e| anyhow::anyhow!("could not seed the demo tenant: {e}"))?;
        let url = sandbox.as_ref().map(|s| s.base_url.clone());
        let ns_url = netsuite_sandbox.as_ref().map(|s| s.base_url.clone());
        println!(
            "{}",
            demo::banner(&addr.to_string(), url.as_deref(), ns_url.as_deref())
        );
    }
    tracing::info!(%addr, database = %redact_url(&args.db.url()), demo = args.demo, "erp-bridge listening");
    let served = app.run_until(shutdown_signal()).await;
    for s in [sandbox, netsuite_sandbox].into_iter().flatten() {
        s.stop().await;
    }
    served
}

/// The NetSuite sandbox with the demo account's TBA token registered and its M2M key pair made.
fn demo_netsuite_config(args: &SandboxArgs) -> netsuite::NetSuiteSandboxConfig {
    let mut config = netsuite::NetSuiteSandboxConfig::new(args.netsuite_sandbox_db.clone());
    let [consumer_key, consumer_secret, token_id, token_secret] = demo::DEMO_NS_TBA;
    config.tba_tokens.push(netsuite::TbaSeed {
        account: demo::DEMO_NS_ACCOUNT.into(),
        consumer_key: consumer_key.into(),
        consumer_secret: SecretString::from(consumer_secret),
        token_id: token_id.into(),
        token_secret: SecretString::from(token_secret),
    });
    config.demo_m2m_accounts.push(demo::DEMO_NS_ACCOUNT.into());
    config.control_token = args.sandbox_control_token.clone();
    config
}

/// The sandbox with the demo app's fixed credentials.
fn demo_sandbox_config(args: &SandboxArgs) -> quickbooks::SandboxConfig {
    let mut config = quickbooks::SandboxConfig::new(
        args.sandbox_db.clone(),
        demo::DEMO_QBO_CLIENT_ID,
        demo::DEMO_QBO_CLIENT_SECRET,
        demo::DEMO_QBO_WEBHOOK_VERIFIER_TOKEN,
    );
    config.redirect_uris = args.sandbox_redirect_uris.clone();
    config.control_token = args.sandbox_control_token.clone();
    config
}

/// `erp-bridge sandbox`: the ERP sandboxes alone (both, or the one `--erp` names).
async fn sandbox(args: SandboxCommandArgs) -> anyhow::Result<()> {
    telemetry::init_tracing(&args.log_format);
    let (qbo, ns) = match args.erp.as_str() {
        "both" => (true, true),
        "quickbooks" => (true, false),
        "netsuite" => (false, true),
        other => bail!("SANDBOX_ERP must be both, quickbooks or netsuite, not {other:?}"),
    };
    let netsuite_handle = if ns {
        let handle = netsuite::start(
            demo_netsuite_config(&args.sandbox),
            args.sandbox.netsuite_sandbox_bind,
        )
        .await?;
        println!("NetSuite sandbox listening on {}", handle.base_url);
        Some(handle)
    } else {
        None
    };
    if !qbo {
        if let Some(h) = netsuite_handle {
            h.wait(shutdown_signal()).await;
        }
        return Ok(());
    }
    let mut config = demo_sandbox_config(&args.sandbox);
    if let Some(id) = &args.client_id {
        config.client_id = id.clone();
    }
    if let Some(secret) = &args.client_secret {
        config.client_secret = secret.clone();
    }
    if let Some(token) = &args.verifier_token {
        config.verifier_token = token.clone();
    }
    config.webhook_url = args.webhook_url.clone();
    config.webhook_format = match args.webhook_format.as_str() {
        "legacy" => quickbooks::WebhookFormat::Legacy,
        "cloud-events" | "cloudevents" => quickbooks::WebhookFormat::CloudEvents,
        other => bail!("SANDBOX_WEBHOOK_FORMAT must be cloud-events or legacy, not {other:?}"),
    };
    if args.time_scale <= 0.0 {
        bail!("SANDBOX_TIME_SCALE must be positive");
    }
    config.limits = quickbooks::Limits {
        enabled: args.limits,
        per_minute: args.requests_per_minute.max(1),
        concurrent: args.concurrency.max(1),
        batch_per_minute: args.batch_per_minute.max(1),
        time_scale: args.time_scale,
    };
    config.access_token_ttl = chrono::TimeDelta::seconds(args.access_token_seconds.max(1));
    let handle = quickbooks::start(config, args.sandbox.sandbox_bind).await?;
    // One line on stdout that scripts (and the restart tests) can wait for.
    println!("QuickBooks sandbox listening on {}", handle.base_url);
    handle.wait(shutdown_signal()).await;
    if let Some(h) = netsuite_handle {
        h.stop().await;
    }
    Ok(())
}

async fn connect(db: &DbArgs) -> anyhow::Result<Db> {
    let url = db.url();
    let pool = Db::connect(&url, db.max_connections)
        .await
        .with_context(|| format!("could not connect to the database at {}", redact_url(&url)))?;
    pool.migrate()
        .await
        .context("could not apply database migrations")?;
    Ok(pool)
}

async fn migrate(db: &DbArgs) -> anyhow::Result<()> {
    connect(db).await?;
    println!("migrations applied to {}", redact_url(&db.url()));
    Ok(())
}

async fn add_tenant(args: erp_bridge::server::config::TenantAddArgs) -> anyhow::Result<()> {
    let db = connect(&args.db).await?;
    let tenant = tenant_service::create(&db, &args.slug, &args.name).await?;
    println!("tenant {} created (id {})", tenant.slug, tenant.id);
    Ok(())
}

async fn add_user(args: erp_bridge::server::config::UserAddArgs) -> anyhow::Result<()> {
    let role: Role = args.role.parse()?;
    let password = read_password()?;
    let db = connect(&args.db).await?;
    let Some(tenant) = tenants::find_by_slug(&db, &args.tenant).await? else {
        bail!(
            "there is no tenant {:?}; create it with `erp-bridge tenant add`",
            args.tenant
        );
    };
    let input = user_service::NewUserInput {
        email: args.email.clone(),
        display_name: args.name.clone(),
        role,
        customer_number: args.customer_number,
        password,
    };
    let id = user_service::insert_user(&db, tenant.id, input, "System", "cli").await?;
    println!(
        "user {} added to {} as {role} (id {id})",
        args.email, tenant.slug
    );
    Ok(())
}

/// The new user's password: `ERP_BRIDGE_PASSWORD`, else the first line of standard input.
fn read_password() -> anyhow::Result<SecretString> {
    if let Ok(pw) = std::env::var("ERP_BRIDGE_PASSWORD") {
        return Ok(SecretString::from(pw));
    }
    eprintln!("password (read from standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("no password given: set ERP_BRIDGE_PASSWORD or pipe it on standard input");
    }
    Ok(SecretString::from(pw))
}
