//! The mapping viewer (IntegrationsView): which ERP record is which of ours, for the company an
//! ERP is (or was last) connected to, one entity type at a time, searchable by either id.

use super::paging::Paging;
use crate::domain::commerce::Page;
use crate::domain::connection::Provider;
use crate::domain::sync::MappingItem;
use crate::domain::Policy;
use crate::error::AppError;
use crate::server::auth::Principal;
use crate::server::service::errors::store;
use crate::server::store::{connections, mappings, Db};

/// Entity types that have mappings.
pub const ENTITY_TYPES: [&str; 5] = ["Customer", "Order", "OrderLine", "Product", "Payment"];

/// What the viewer asks for.
#[derive(Clone, Debug, Default)]
pub struct MappingQuery {
    /// Our id or the ERP's.
    pub q: Option<String>,
    /// Page.
    pub page: Option<i64>,
    /// Rows per page.
    pub per_page: Option<i64>,
}

/// A page of mappings.
pub async fn list(
    db: &Db,
    p: &Principal,
    provider: &str,
    entity_type: &str,
    query: MappingQuery,
) -> Result<Page<MappingItem>, AppError> {
    p.require(Policy::IntegrationsView)?;
    let provider: Provider = provider
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{e}")))?;
    let Some(entity_type) = ENTITY_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(entity_type))
    else {
        return Err(AppError::BadRequest(format!(
            "{entity_type:?} has no mappings; expected one of {}.",
            ENTITY_TYPES.join(", ")
        )));
    };
    let paging = Paging::new(query.page, query.per_page);
    let company = connections::list(db, p.tenant_id)
        .await
        .map_err(store)?
        .into_iter()
        .find(|c| c.provider == provider.as_str())
        .and_then(|c| c.external_company_id);
    let Some(company) = company else {
        return Ok(Page {
            items: Vec::new(),
            page: paging.page,
            per_page: paging.per_page,
            total: 0,
        });
    };
    let scope = mappings::Scope {
        tenant_id: p.tenant_id,
        provider: provider.as_str(),
        external_company_id: &company,
        entity_type,
    };
    let record = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (rows, total) = mappings::search(db, scope, record, paging.per_page, paging.offset())
        .await
        .map_err(store)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| MappingItem {
                entity_type: entity_type.to_string(),
                our_id: r.prometheus_id,
                external_id: r.external_id,
                sync_token: r.sync_token,
                external_company_id: company.clone(),
                created_at: r.created_at,
                last_synced_at: r.last_sync_at,
            })
            .collect(),
        page: paging.page,
        per_page: paging.per_page,
        total,
    })
}
