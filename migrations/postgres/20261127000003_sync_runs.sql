-- Sync runs (issue 10, DESIGN § 14): a manual sync or backfill an Admin started, and the outbox
-- rows that deliver it. A row can serve several runs (a record already waiting when a second run
-- asks for it), so membership is its own table. Counts are read from the rows' statuses: a run's
-- figures mean delivered, not queued.
CREATE TABLE integration_sync_runs (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants(id),
    provider      TEXT NOT NULL,
    scope         TEXT NOT NULL,
    since         TIMESTAMPTZ,
    requested_by  TEXT NOT NULL,
    considered    BIGINT NOT NULL,
    not_queued    BIGINT NOT NULL,
    errors        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_sync_runs_tenant ON integration_sync_runs (tenant_id, created_at);

CREATE TABLE integration_sync_run_items (
    run_id     UUID NOT NULL REFERENCES integration_sync_runs(id),
    outbox_id  UUID NOT NULL,
    PRIMARY KEY (run_id, outbox_id)
);

-- The dashboard counts a tenant's webhook events per day (issue 10).
CREATE INDEX idx_inbox_received ON integration_inbox (tenant_id, provider, received_at);
