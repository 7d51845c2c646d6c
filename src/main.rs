//! The `erp-bridge` binary: parse the command line, then serve, migrate or administer.

use anyhow::{bail, Context};
use clap::Parser;
use secrecy::SecretString;
use std::io::BufRead;
use std::process::ExitCode;

use erp_bridge::domain::Role;
use erp_bridge::server::config::{Cli, Command, DbArgs, ServeArgs, TenantCommand, UserCommand};
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
    let app = Application::build(Settings::from_args(&args)).await?;
    let addr = app.local_addr()?;
    if args.demo {
        demo::seed(&app.state().db)
            .await
            .map_err(|e| anyhow::anyhow!("could not seed the demo tenant: {e}"))?;
        println!("{}", demo::banner(&addr.to_string()));
    }
    tracing::info!(%addr, database = %redact_url(&args.db.url()), demo = args.demo, "erp-bridge listening");
    app.run_until(shutdown_signal()).await
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
