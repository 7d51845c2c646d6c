-- The audit export (issue 10) pages by (created_at, id) keyset: the index ends in that order so
-- each page is a range, never a re-read of the pages before it.
DROP INDEX idx_audit_tenant_time;
CREATE INDEX idx_audit_tenant_time ON audit_events (tenant_id, created_at, id);
