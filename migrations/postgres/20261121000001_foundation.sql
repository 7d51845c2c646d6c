-- erp-bridge schema, PostgreSQL dialect. migrations/sqlite/ holds the same tables, columns and
-- indexes in SQLite's dialect; tests/api/schema.rs compares the two so they cannot drift.
-- Vocabularies (TEXT) are those of DESIGN.md § 13.

CREATE TABLE tenants (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE customers (
    id                    UUID PRIMARY KEY,
    tenant_id             UUID NOT NULL REFERENCES tenants(id),
    customer_number       BIGINT NOT NULL,
    name                  TEXT NOT NULL,
    email                 TEXT,
    phone                 TEXT,
    billing_line1         TEXT,
    billing_line2         TEXT,
    billing_city          TEXT,
    billing_region        TEXT,
    billing_postal_code   TEXT,
    billing_country       TEXT,
    shipping_line1        TEXT,
    shipping_line2        TEXT,
    shipping_city         TEXT,
    shipping_region       TEXT,
    shipping_postal_code  TEXT,
    shipping_country      TEXT,
    origin                TEXT NOT NULL DEFAULT 'Local',
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, customer_number)
);

CREATE TABLE users (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants(id),
    email               TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('Admin', 'SalesManager', 'SalesRep', 'Customer')),
    customer_id         UUID,
    is_active           BOOLEAN NOT NULL DEFAULT TRUE,
    failed_login_count  BIGINT NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id),
    CHECK ((role = 'Customer') = (customer_id IS NOT NULL))
);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    token_prefix  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('Admin', 'SalesManager', 'SalesRep')),
    created_by    UUID NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, created_by) REFERENCES users(tenant_id, id)
);
CREATE INDEX idx_api_tokens_tenant ON api_tokens (tenant_id, created_at);

CREATE TABLE products (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants(id),
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    unit_price  BIGINT NOT NULL CHECK (unit_price >= 0),
    currency    TEXT NOT NULL,
    is_active   BOOLEAN NOT NULL DEFAULT TRUE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, sku)
);

CREATE TABLE orders (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants(id),
    order_number     BIGINT NOT NULL,
    customer_id      UUID NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('Draft', 'Placed', 'Fulfilled', 'Cancelled')),
    payment_status   TEXT NOT NULL CHECK (payment_status IN ('Unpaid', 'PartiallyPaid', 'Paid')),
    currency         TEXT NOT NULL,
    subtotal         BIGINT NOT NULL DEFAULT 0,
    shipping_amount  BIGINT NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
    total            BIGINT NOT NULL DEFAULT 0,
    amount_paid      BIGINT NOT NULL DEFAULT 0,
    origin           TEXT NOT NULL DEFAULT 'Local',
    version          BIGINT NOT NULL DEFAULT 1,
    placed_at        TIMESTAMPTZ,
    paid_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, order_number),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id)
);
CREATE INDEX idx_orders_tenant_customer ON orders (tenant_id, customer_id, created_at);

CREATE TABLE order_items (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants(id),
    order_id     UUID NOT NULL,
    product_id   UUID NOT NULL,
    line_number  BIGINT NOT NULL,
    sku          TEXT NOT NULL,
    description  TEXT NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    unit_price   BIGINT NOT NULL CHECK (unit_price >= 0),
    amount       BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('Pending', 'Allocated', 'Shipped', 'Cancelled')),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (order_id, line_number),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders(tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products(tenant_id, id)
);

CREATE TABLE payments (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants(id),
    order_id     UUID NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    currency     TEXT NOT NULL,
    method       TEXT NOT NULL,
    reference    TEXT,
    origin       TEXT NOT NULL DEFAULT 'Local',
    external_id  TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders(tenant_id, id)
);
CREATE UNIQUE INDEX uq_payments_external ON payments (tenant_id, origin, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX idx_payments_order ON payments (tenant_id, order_id);

CREATE TABLE audit_events (
    id           UUID PRIMARY KEY,
    tenant_id    UUID REFERENCES tenants(id),
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    order_id     UUID,
    before_json  TEXT,
    after_json   TEXT,
    request_id   TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_audit_tenant_time ON audit_events (tenant_id, created_at);
CREATE INDEX idx_audit_entity ON audit_events (tenant_id, entity_type, entity_id);

CREATE TABLE oauth_states (
    state_hash      TEXT PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants(id),
    user_id         UUID NOT NULL,
    provider        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE worker_leases (
    tenant_id     UUID NOT NULL REFERENCES tenants(id),
    provider      TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    owner         TEXT NOT NULL,
    lease_token   UUID NOT NULL,
    locked_until  TIMESTAMPTZ NOT NULL,
    heartbeat_at  TIMESTAMPTZ NOT NULL,
    acquired_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider, purpose)
);

CREATE TABLE integration_connections (
    id                        UUID PRIMARY KEY,
    tenant_id                 UUID NOT NULL REFERENCES tenants(id),
    provider                  TEXT NOT NULL CHECK (provider IN ('QuickBooks', 'NetSuite')),
    external_company_id       TEXT,
    company_name              TEXT,
    access_token_encrypted    TEXT,
    refresh_token_encrypted   TEXT,
    credentials_encrypted     TEXT,
    encryption_key_id         TEXT,
    access_token_expires_at   TIMESTAMPTZ,
    refresh_token_expires_at  TIMESTAMPTZ,
    token_refresh_owner       TEXT,
    token_refresh_until       TIMESTAMPTZ,
    is_active                 BOOLEAN NOT NULL DEFAULT TRUE,
    status                    TEXT NOT NULL DEFAULT 'NotConnected'
                              CHECK (status IN ('Connected', 'NotConnected', 'ReconnectRequired', 'Error')),
    reconnect_reason          TEXT,
    last_sync_at              TIMESTAMPTZ,
    last_sync_error           TEXT,
    auto_sync_enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    sync_customers            BOOLEAN NOT NULL DEFAULT TRUE,
    sync_invoices             BOOLEAN NOT NULL DEFAULT TRUE,
    sync_payments             BOOLEAN NOT NULL DEFAULT TRUE,
    pull_frequency_minutes    BIGINT NOT NULL DEFAULT 15,
    diagnostic_until          TIMESTAMPTZ,
    created_at                TIMESTAMPTZ NOT NULL,
    modified_at               TIMESTAMPTZ,
    connected_by              TEXT,
    UNIQUE (tenant_id, provider),
    UNIQUE (provider, external_company_id)
);

CREATE TABLE integration_outbox (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants(id),
    event_type       TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    payload          TEXT NOT NULL,
    idempotency_key  TEXT,
    status           TEXT NOT NULL DEFAULT 'Pending'
                     CHECK (status IN ('Pending', 'Processing', 'Completed', 'Failed', 'Abandoned')),
    target_system    TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    processed_at     TIMESTAMPTZ,
    scheduled_for    TIMESTAMPTZ,
    retry_count      BIGINT NOT NULL DEFAULT 0,
    max_retries      BIGINT NOT NULL DEFAULT 5,
    last_error       TEXT,
    correlation_id   UUID,
    locked_by        TEXT,
    locked_until     TIMESTAMPTZ,
    lease_token      UUID
);
CREATE INDEX idx_outbox_due ON integration_outbox (tenant_id, status, scheduled_for);
CREATE UNIQUE INDEX uq_outbox_idempotency ON integration_outbox (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX idx_outbox_entity ON integration_outbox (tenant_id, entity_type, entity_id);

CREATE TABLE integration_entity_mappings (
    id                   UUID PRIMARY KEY,
    tenant_id            UUID NOT NULL REFERENCES tenants(id),
    provider             TEXT NOT NULL,
    external_company_id  TEXT NOT NULL,
    entity_type          TEXT NOT NULL,
    prometheus_id        TEXT NOT NULL,
    external_id          TEXT NOT NULL,
    sync_token           TEXT,
    metadata             TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    last_sync_at         TIMESTAMPTZ
);
CREATE UNIQUE INDEX uq_mappings_ours ON integration_entity_mappings (tenant_id, provider, external_company_id, entity_type, prometheus_id);
CREATE UNIQUE INDEX uq_mappings_theirs ON integration_entity_mappings (tenant_id, provider, external_company_id, entity_type, external_id);

CREATE TABLE integration_sync_logs (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants(id),
    provider            TEXT NOT NULL,
    entity_type         TEXT NOT NULL,
    entity_id           TEXT,
    external_id         TEXT,
    event_type          TEXT,
    outbox_id           UUID,
    inbox_id            UUID,
    direction           TEXT NOT NULL CHECK (direction IN ('ToExternal', 'FromExternal')),
    status              TEXT NOT NULL CHECK (status IN ('Pending', 'InProgress', 'Completed', 'Failed', 'Skipped')),
    error_message       TEXT,
    request_payload     TEXT,
    response_payload    TEXT,
    payload_scrubbed_at TIMESTAMPTZ,
    started_at          TIMESTAMPTZ NOT NULL,
    completed_at        TIMESTAMPTZ,
    duration_ms         BIGINT,
    retry_count         BIGINT NOT NULL DEFAULT 0,
    correlation_id      UUID
);
CREATE INDEX idx_sync_logs_time ON integration_sync_logs (tenant_id, started_at);
CREATE INDEX idx_sync_logs_filter ON integration_sync_logs (tenant_id, provider, status, started_at);
CREATE INDEX idx_sync_logs_entity ON integration_sync_logs (tenant_id, entity_type, entity_id);

CREATE TABLE integration_inbox (
    id                   UUID PRIMARY KEY,
    tenant_id            UUID NOT NULL REFERENCES tenants(id),
    provider             TEXT NOT NULL,
    external_event_id    TEXT NOT NULL,
    external_company_id  TEXT,
    event_type           TEXT,
    entity_type          TEXT,
    entity_id            TEXT,
    payload              TEXT,
    received_at          TIMESTAMPTZ NOT NULL,
    processed_at         TIMESTAMPTZ,
    status               TEXT NOT NULL DEFAULT 'Pending'
                         CHECK (status IN ('Pending', 'InProgress', 'Completed', 'Failed', 'Skipped')),
    attempts             BIGINT NOT NULL DEFAULT 0,
    next_attempt_at      TIMESTAMPTZ,
    locked_by            TEXT,
    locked_until         TIMESTAMPTZ,
    last_error           TEXT,
    UNIQUE (tenant_id, provider, external_event_id)
);
CREATE INDEX idx_inbox_due ON integration_inbox (tenant_id, status, next_attempt_at);

CREATE TABLE integration_sync_checkpoints (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants(id),
    provider         TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    cursor           TEXT,
    last_success_at  TIMESTAMPTZ,
    last_error       TEXT,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, provider, entity_type)
);

CREATE TABLE integration_webhook_receipts (
    id                   UUID PRIMARY KEY,
    provider             TEXT NOT NULL,
    received_at          TIMESTAMPTZ NOT NULL,
    signature_ok         BOOLEAN NOT NULL,
    external_company_id  TEXT,
    tenant_id            UUID REFERENCES tenants(id),
    routed               BOOLEAN NOT NULL,
    event_count          BIGINT NOT NULL DEFAULT 0,
    status_code          BIGINT NOT NULL,
    body_bytes           BIGINT NOT NULL DEFAULT 0,
    error                TEXT
);
CREATE INDEX idx_webhook_receipts_time ON integration_webhook_receipts (provider, received_at);

CREATE TABLE integration_provider_health (
    tenant_id             UUID NOT NULL REFERENCES tenants(id),
    provider              TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT 'Closed' CHECK (state IN ('Closed', 'Open', 'HalfOpen')),
    consecutive_failures  BIGINT NOT NULL DEFAULT 0,
    open_count            BIGINT NOT NULL DEFAULT 0,
    open_until            TIMESTAMPTZ,
    last_failure_at       TIMESTAMPTZ,
    last_error            TEXT,
    updated_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
