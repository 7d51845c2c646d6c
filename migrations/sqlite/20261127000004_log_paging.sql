-- The sync log viewer (issue 10) shows a tenant's log newest first, under any one filter, a page at
-- a time by (started_at, id) keyset. Each filter gets an index that ends in the paging order, so
-- the first page, any later page and a filter that matches nothing are all index ranges, never a
-- scan of the tenant's rows; a record search reads two indexes (our id, the ERP's id). These
-- replace the earlier three, whose orders the viewer could not use.
DROP INDEX idx_sync_logs_time;
DROP INDEX idx_sync_logs_filter;
DROP INDEX idx_sync_logs_entity;
CREATE INDEX idx_sync_logs_time ON integration_sync_logs (tenant_id, started_at, id);
CREATE INDEX idx_sync_logs_status ON integration_sync_logs (tenant_id, status, started_at, id);
CREATE INDEX idx_sync_logs_provider ON integration_sync_logs (tenant_id, provider, started_at, id);
CREATE INDEX idx_sync_logs_entity_type ON integration_sync_logs (tenant_id, entity_type, started_at, id);
CREATE INDEX idx_sync_logs_direction ON integration_sync_logs (tenant_id, direction, started_at, id);
CREATE INDEX idx_sync_logs_record ON integration_sync_logs (tenant_id, entity_id);
CREATE INDEX idx_sync_logs_external ON integration_sync_logs (tenant_id, external_id);
