//! The integrations dashboard: connections, settings, health, the sync log and mappings.

// NetSuite's connect form posts eleven flat fields (a browser without JavaScript sends them as
// they are); the server-function macro turns them into as many arguments.
#![allow(clippy::too_many_arguments)]

use crate::domain::connection::{ConnectionSummary, FormSecret, NetSuiteAccount, PullResult};
use crate::error::AppError;
use leptos::prelude::*;

/// One card per ERP (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionSummary>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::server::service::connections::list_with_credentials(
                &state.db,
                state.netsuite.as_ref(),
                &ctx::principal()?,
            )
            .await
        }
        .await,
    )
}

/// Disconnects an ERP (IntegrationsManage): tokens revoked and deleted, mappings kept.
#[server(prefix = "/rpc", endpoint = "disconnect_provider")]
pub async fn disconnect_provider(provider: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::server::service::quickbooks::disconnect(
                &state.db,
                state.qbo.as_ref(),
                &ctx::principal()?,
                &provider,
            )
            .await
        }
        .await,
    )
}

/// Closes an ERP's circuit breaker so deliveries resume now (IntegrationsManage; audited).
#[server(prefix = "/rpc", endpoint = "close_breaker")]
pub async fn close_breaker(provider: String) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_admin::close_breaker(
                &ctx::state()?.db,
                &ctx::principal()?,
                &provider,
            )
            .await
        }
        .await,
    )
}

/// A page of the sync log (IntegrationsView), filtered as the log page's form says.
#[server(prefix = "/rpc", endpoint = "list_sync_logs")]
pub async fn list_sync_logs(
    filter: crate::domain::sync::LogFilterInput,
) -> Result<crate::domain::sync::LogPage, AppError> {
    use super::ctx;
    use crate::server::service::sync_log_view::{self, LogQuery};
    ctx::respond(
        async {
            let principal = ctx::principal()?;
            let query = LogQuery::from_form(filter)?;
            sync_log_view::list(&ctx::state()?.db, &principal, query).await
        }
        .await,
    )
}

/// One connection's card and settings (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "get_connection")]
pub async fn get_connection(
    provider: String,
) -> Result<crate::domain::connection::ConnectionDetail, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::connection_settings::get(
                &ctx::state()?.db,
                &ctx::principal()?,
                &provider,
            )
            .await
        }
        .await,
    )
}

pub use save_form::{save_settings, SaveSettings};

/// The settings form's server function, on its own: it takes one argument per field of the form
/// (a plain form post names them so), more than clippy's default of seven.
mod save_form {
    #![allow(clippy::too_many_arguments)]
    use crate::error::AppError;
    use leptos::prelude::*;

    /// The settings form (IntegrationsManage). A checkbox left unticked is not posted, so each
    /// toggle is off unless present; an empty diagnostic field leaves diagnostic mode as it is.
    #[server(prefix = "/rpc", endpoint = "save_settings")]
    pub async fn save_settings(
        provider: String,
        auto_sync_enabled: Option<String>,
        sync_customers: Option<String>,
        sync_invoices: Option<String>,
        sync_payments: Option<String>,
        pull_frequency_minutes: String,
        diagnostic_minutes: String,
        #[server(default)] deposit_account_id: Option<String>,
    ) -> Result<crate::domain::connection::ConnectionSettings, AppError> {
        use crate::api::ctx;
        use crate::server::service::connection_settings::{self, SettingsInput};
        ctx::respond(
            async {
                let whole = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
                    let text = text.trim();
                    if text.is_empty() {
                        return Ok(None);
                    }
                    text.parse::<i64>().map(Some).map_err(|_| {
                        AppError::BadRequest(format!("{field}: enter a whole number of minutes."))
                    })
                };
                let input = SettingsInput {
                    auto_sync_enabled: Some(auto_sync_enabled.is_some()),
                    sync_customers: Some(sync_customers.is_some()),
                    sync_invoices: Some(sync_invoices.is_some()),
                    sync_payments: Some(sync_payments.is_some()),
                    pull_frequency_minutes: whole("Pull frequency", &pull_frequency_minutes)?,
                    diagnostic_minutes: whole("Diagnostic mode", &diagnostic_minutes)?,
                    deposit_account_id,
                };
                let saved = connection_settings::update(
                    &ctx::state()?.db,
                    &ctx::principal()?,
                    &provider,
                    input,
                )
                .await?;
                ctx::confirm_form_post(&format!("/integrations/{provider}/settings?done=saved"));
                Ok(saved)
            }
            .await,
        )
    }
}

/// One sync log entry with payloads and its delivery's state (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "get_sync_log")]
pub async fn get_sync_log(id: uuid::Uuid) -> Result<crate::domain::sync::SyncLogDetail, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_log_view::detail(&ctx::state()?.db, &ctx::principal()?, id)
                .await
        }
        .await,
    )
}

/// Sends the delivery behind a log entry again (RequestRetry: Admin and SalesManager).
#[server(prefix = "/rpc", endpoint = "retry_sync_log")]
pub async fn retry_sync_log(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::sync_admin::retry_from_log(
                &ctx::state()?.db,
                &ctx::principal()?,
                id,
            )
            .await?;
            ctx::confirm_form_post(&format!("/integrations/logs/{id}?done=retried"));
            Ok(())
        }
        .await,
    )
}

/// Sets aside the delivery behind a log entry so the record's later changes go ahead
/// (IntegrationsManage; audited with the reason).
#[server(prefix = "/rpc", endpoint = "dismiss_sync_log")]
pub async fn dismiss_sync_log(id: uuid::Uuid, reason: String) -> Result<(), AppError> {
    use super::ctx;
    use crate::server::service::sync_admin::{self, DismissInput};
    ctx::respond(
        async {
            let input = DismissInput {
                reason: Some(reason),
            };
            sync_admin::dismiss_from_log(&ctx::state()?.db, &ctx::principal()?, id, input).await?;
            ctx::confirm_form_post(&format!("/integrations/logs/{id}?done=dismissed"));
            Ok(())
        }
        .await,
    )
}

/// A page of mappings of one entity type (IntegrationsView), searchable by either id.
#[server(prefix = "/rpc", endpoint = "list_mappings")]
pub async fn list_mappings(
    provider: String,
    entity_type: String,
    q: String,
    page: i64,
) -> Result<crate::domain::commerce::Page<crate::domain::sync::MappingItem>, AppError> {
    use super::ctx;
    use crate::server::service::mappings_view::{self, MappingQuery};
    ctx::respond(
        async {
            let query = MappingQuery {
                q: Some(q),
                page: Some(page),
                per_page: Some(50),
            };
            mappings_view::list(
                &ctx::state()?.db,
                &ctx::principal()?,
                &provider,
                &entity_type,
                query,
            )
            .await
        }
        .await,
    )
}

/// The dashboard's charts and health table for every ERP the tenant connected (IntegrationsView).
#[server(prefix = "/rpc", endpoint = "dashboard_health")]
pub async fn dashboard_health() -> Result<Vec<crate::domain::connection::ProviderHealth>, AppError>
{
    use super::ctx;
    ctx::respond(
        async {
            crate::server::service::dashboard::health_all(&ctx::state()?.db, &ctx::principal()?)
                .await
        }
        .await,
    )
}

/// Connects NetSuite from the card's form (IntegrationsManage, a person). The form's fields are
/// flat (a browser without JavaScript posts them as they are); `method` picks which credentials
/// count. Without JavaScript, success sends the browser back to the Integrations page.
#[server(prefix = "/rpc", endpoint = "connect_netsuite")]
pub async fn connect_netsuite(
    account_id: String,
    method: String,
    #[server(default)] client_id: String,
    #[server(default)] certificate_id: String,
    #[server(default)] private_key_pem: FormSecret,
    #[server(default)] certificate_pem: String,
    #[server(default)] consumer_key: String,
    #[server(default)] consumer_secret: FormSecret,
    #[server(default)] token_id: String,
    #[server(default)] token_secret: FormSecret,
    #[server(default)] subsidiary_id: String,
) -> Result<NetSuiteAccount, AppError> {
    use super::ctx;
    use crate::server::service::netsuite::{self as ns_service, ConnectInput, CredentialsInput};
    ctx::respond(
        async {
            let credentials = match method.as_str() {
                "m2m" => CredentialsInput::M2m {
                    client_id,
                    certificate_id,
                    private_key_pem: private_key_pem.0,
                    certificate_pem,
                },
                "tba" => CredentialsInput::Tba {
                    consumer_key,
                    consumer_secret: consumer_secret.0,
                    token_id,
                    token_secret: token_secret.0,
                },
                _ => {
                    return Err(AppError::BadRequest(
                        "Choose machine to machine or token-based authentication.".into(),
                    ))
                }
            };
            let input = ConnectInput {
                account_id,
                credentials,
                subsidiary_id: Some(subsidiary_id.trim().to_string()).filter(|s| !s.is_empty()),
            };
            let state = ctx::state()?;
            let account_id = input.account_id.clone();
            let done = ns_service::connect_or_choose(
                &state.db,
                state.netsuite.as_ref(),
                &ctx::principal()?,
                input,
            )
            .await?;
            match done {
                Ok(done) => {
                    ctx::confirm_form_post("/integrations?done=netsuite-connected");
                    Ok(done)
                }
                // Without JavaScript the message (listing them) comes back to the form; with it
                // the form offers them as a choice.
                Err(choose) if ctx::is_form_post() => Err(AppError::Conflict(choose.message)),
                Err(choose) => Ok(NetSuiteAccount {
                    account_id,
                    method,
                    status: "ChooseSubsidiary".into(),
                    reason: Some(choose.message),
                    subsidiaries: choose.subsidiaries,
                    subsidiary_id: None,
                    home_currency: None,
                    certificate_expires_at: None,
                }),
            }
        }
        .await,
    )
}

/// Pulls NetSuite's changes now (IntegrationsManage).
#[server(prefix = "/rpc", endpoint = "pull_netsuite")]
pub async fn pull_netsuite() -> Result<PullResult, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let pulled = crate::server::service::netsuite::pull_now(
                &state.db,
                state.netsuite.as_ref(),
                &ctx::principal()?,
            )
            .await?;
            ctx::confirm_form_post("/integrations?done=netsuite-pulled");
            Ok(pulled)
        }
        .await,
    )
}

/// Re-checks the stored NetSuite credentials (IntegrationsManage).
#[server(prefix = "/rpc", endpoint = "validate_netsuite")]
pub async fn validate_netsuite() -> Result<NetSuiteAccount, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let checked = crate::server::service::netsuite::validate(
                &state.db,
                state.netsuite.as_ref(),
                &ctx::principal()?,
            )
            .await?;
            ctx::confirm_form_post("/integrations?done=netsuite-checked");
            Ok(checked)
        }
        .await,
    )
}
