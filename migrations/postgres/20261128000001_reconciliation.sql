-- Differences of the QuickBooks reconciliation report a person dismissed (issue 12): the report
-- no longer lists them. The key names the kind, our record and the ERP's.
CREATE TABLE reconciliation_dismissals (
    tenant_id     UUID NOT NULL REFERENCES tenants(id),
    provider      TEXT NOT NULL,
    drift_key     TEXT NOT NULL,
    dismissed_by  TEXT NOT NULL,
    dismissed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, drift_key)
);
