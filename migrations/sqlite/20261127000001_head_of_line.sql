-- Per-record order as an explicit head of line (DESIGN § 14).
--
-- Each outbox row belongs to a record group: a customer is its own group; an order's events and
-- its payments share the order's group ('Order:<id>'). Within (tenant, provider, group) rows are
-- delivered in `seq` order: only the group's first unfinished row — its head — may be claimed.
-- Unfinished means Pending, Processing, Failed or Abandoned (a failed head blocks the record
-- until it is retried, dismissed or superseded by a newer event of the same record).
--
-- The triggers below keep `head` true on exactly that row, in the database engine, whatever
-- statement changed the group: an enqueue (which also supersedes older unfinished rows that the
-- new event replaces), a settle, a dismissal, a retry. The PostgreSQL migration does the same
-- with trigger functions. Each statement reads one group through `idx_outbox_group`.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (nothing references it).

CREATE TABLE integration_outbox_v2 (
    id               BLOB PRIMARY KEY,
    tenant_id        BLOB NOT NULL REFERENCES tenants(id),
    event_type       TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    payload          TEXT NOT NULL,
    idempotency_key  TEXT,
    status           TEXT NOT NULL DEFAULT 'Pending'
                     CHECK (status IN ('Pending', 'Processing', 'Completed', 'Failed', 'Abandoned',
                                       'Superseded', 'Dismissed')),
    target_system    TEXT,
    created_at       TEXT NOT NULL,
    processed_at     TEXT,
    scheduled_for    TEXT,
    retry_count      INTEGER NOT NULL DEFAULT 0,
    max_retries      INTEGER NOT NULL DEFAULT 5,
    last_error       TEXT,
    correlation_id   BLOB,
    locked_by        TEXT,
    locked_until     TEXT,
    lease_token      BLOB,
    -- Order of enqueue (the store inserts the rowid the row gets, which only grows).
    seq              INTEGER NOT NULL DEFAULT 0,
    -- 'Customer:<id>' or 'Order:<id>' (payments join their order's group).
    record_group     TEXT NOT NULL DEFAULT '',
    -- 1 on the group's first unfinished row, the only one a worker may claim.
    head             INTEGER NOT NULL DEFAULT 0 CHECK (head IN (0, 1)),
    -- The row that replaced this one (status Superseded).
    superseded_by    BLOB
) STRICT;

INSERT INTO integration_outbox_v2 (id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key,
    status, target_system, created_at, processed_at, scheduled_for, retry_count, max_retries, last_error,
    correlation_id, locked_by, locked_until, lease_token, seq, record_group)
SELECT id, tenant_id, event_type, entity_type, entity_id, payload, idempotency_key, status, target_system,
    created_at, processed_at, scheduled_for, retry_count, max_retries, last_error, correlation_id, locked_by,
    locked_until, lease_token,
    ROW_NUMBER() OVER (ORDER BY created_at, id),
    CASE WHEN entity_type = 'Payment' AND correlation_id IS NOT NULL
         THEN 'Order:' || lower(substr(hex(correlation_id), 1, 8) || '-' || substr(hex(correlation_id), 9, 4) || '-' ||
              substr(hex(correlation_id), 13, 4) || '-' || substr(hex(correlation_id), 17, 4) || '-' ||
              substr(hex(correlation_id), 21))
         ELSE entity_type || ':' || entity_id END
FROM integration_outbox;

DROP TABLE integration_outbox;
ALTER TABLE integration_outbox_v2 RENAME TO integration_outbox;

UPDATE integration_outbox SET head = 1 WHERE id IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY tenant_id, target_system, record_group ORDER BY seq, id) AS n
        FROM integration_outbox
        WHERE target_system IS NOT NULL AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned'))
    WHERE n = 1);

CREATE UNIQUE INDEX uq_outbox_idempotency ON integration_outbox (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX idx_outbox_entity ON integration_outbox (tenant_id, entity_type, entity_id);
-- Claims and the due-pairs probe: a range scan over the heads of one (tenant, provider).
CREATE INDEX idx_outbox_heads ON integration_outbox (tenant_id, target_system, scheduled_for)
    WHERE head AND status IN ('Pending', 'Processing', 'Failed');
-- A record group's rows in order (head upkeep). Not partial: the upkeep also clears the flag
-- on rows that just finished, and a group holds a record's few events, so reading it whole is
-- cheap.
CREATE INDEX idx_outbox_group ON integration_outbox (tenant_id, target_system, record_group, seq, id);
-- Console listings and counts by status.
CREATE INDEX idx_outbox_status ON integration_outbox (tenant_id, status, created_at);

-- A row is inserted with its sequence number and, when nothing of its group is unfinished, as the
-- group's head (the store's INSERTs say so). A row that queues behind unfinished ones takes its
-- place here: it supersedes the older rows of the same record that it replaces (an event asking
-- for an invoice is replaced only by another that asks for one), and becomes the head if the
-- group has none left. Skipped rows (inserted Completed) replace nothing.
CREATE TRIGGER outbox_enqueued AFTER INSERT ON integration_outbox
WHEN NEW.target_system IS NOT NULL AND NEW.status = 'Pending' AND NEW.head = 0
BEGIN
    UPDATE integration_outbox
       SET status = 'Superseded', superseded_by = NEW.id, head = 0, scheduled_for = NULL,
           locked_by = NULL, locked_until = NULL
     WHERE id IN (SELECT id FROM integration_outbox
                  WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                    AND record_group = NEW.record_group AND id <> NEW.id)
       AND entity_type = NEW.entity_type AND entity_id = NEW.entity_id
       AND status IN ('Pending', 'Failed', 'Abandoned')
       AND (event_type NOT IN ('OrderPaid', 'OrderSyncRequested')
            OR NEW.event_type IN ('OrderPaid', 'OrderSyncRequested'));
    UPDATE integration_outbox SET head = 1
     WHERE id = (SELECT id FROM integration_outbox
                 WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                   AND record_group = NEW.record_group
                   AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
                 ORDER BY seq, id LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM integration_outbox
                       WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                         AND record_group = NEW.record_group AND head = 1);
END;

-- A head that finishes hands the head on to its group's first unfinished row. Every statement
-- that finishes a row clears its flag itself; only a head leaving the unfinished states changes
-- a group's head (new rows queue behind it, and finished rows never come back).
CREATE TRIGGER outbox_head_finished AFTER UPDATE OF status ON integration_outbox
WHEN OLD.head = 1 AND NEW.target_system IS NOT NULL
 AND OLD.status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
 AND NEW.status NOT IN ('Pending', 'Processing', 'Failed', 'Abandoned')
BEGIN
    UPDATE integration_outbox SET head = 1
     WHERE id = (SELECT id FROM integration_outbox
                 WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                   AND record_group = NEW.record_group
                   AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
                 ORDER BY seq, id LIMIT 1);
END;
