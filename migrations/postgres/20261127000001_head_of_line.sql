-- Per-record order as an explicit head of line (DESIGN § 14).
--
-- Each outbox row belongs to a record group: a customer is its own group; an order's events and
-- its payments share the order's group ('Order:<id>'). Within (tenant, provider, group) rows are
-- delivered in `seq` order: only the group's first unfinished row — its head — may be claimed.
-- Unfinished means Pending, Processing, Failed or Abandoned (a failed head blocks the record
-- until it is retried, dismissed or superseded by a newer event of the same record).
--
-- The triggers below keep `head` true on exactly that row, whatever statement changed the group:
-- an enqueue (which also supersedes older unfinished rows that the new event replaces), a settle,
-- a dismissal, a retry. Settles change many rows at once, so the status trigger is set-based
-- (statement level, transition tables). Trigger functions are VOLATILE, so in READ COMMITTED each
-- of their statements sees what other transactions committed before it ran.
--
-- Concurrency: an enqueue first takes a share lock on its group's unfinished rows. A worker
-- settling one of those rows holds its row lock until commit, so the enqueue waits and then sees
-- the settled state; a settle that comes second waits for the enqueue's commit, and its status
-- trigger then sees the new row. Either way exactly one head remains.

ALTER TABLE integration_outbox DROP CONSTRAINT integration_outbox_status_check;
ALTER TABLE integration_outbox ADD CONSTRAINT integration_outbox_status_check
    CHECK (status IN ('Pending', 'Processing', 'Completed', 'Failed', 'Abandoned', 'Superseded', 'Dismissed'));

CREATE SEQUENCE integration_outbox_seq AS BIGINT;
ALTER TABLE integration_outbox
    ADD COLUMN seq           BIGINT,
    ADD COLUMN record_group  TEXT NOT NULL DEFAULT '',
    ADD COLUMN head          BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN superseded_by UUID;

UPDATE integration_outbox o SET seq = n.seq,
    record_group = CASE WHEN o.entity_type = 'Payment' AND o.correlation_id IS NOT NULL
                        THEN 'Order:' || o.correlation_id::text
                        ELSE o.entity_type || ':' || o.entity_id END
FROM (SELECT id, nextval('integration_outbox_seq') AS seq
      FROM (SELECT id FROM integration_outbox ORDER BY created_at, id) ordered) n
WHERE o.id = n.id;
ALTER TABLE integration_outbox
    ALTER COLUMN seq SET DEFAULT nextval('integration_outbox_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE integration_outbox_seq OWNED BY integration_outbox.seq;

UPDATE integration_outbox SET head = true WHERE id IN (
    SELECT DISTINCT ON (tenant_id, target_system, record_group) id FROM integration_outbox
    WHERE target_system IS NOT NULL AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
    ORDER BY tenant_id, target_system, record_group, seq, id);

DROP INDEX idx_outbox_due;
-- Claims and the due-pairs probe: a range scan over the heads of one (tenant, provider).
CREATE INDEX idx_outbox_heads ON integration_outbox (tenant_id, target_system, scheduled_for)
    WHERE head AND status IN ('Pending', 'Processing', 'Failed');
-- A record group's rows in order (head upkeep). Not partial: the upkeep also clears the flag
-- on rows that just finished, and a group holds a record's few events, so reading it whole is
-- cheap.
CREATE INDEX idx_outbox_group ON integration_outbox (tenant_id, target_system, record_group, seq, id);
-- Console listings and counts by status.
CREATE INDEX idx_outbox_status ON integration_outbox (tenant_id, status, created_at);

-- The trigger functions are plpgsql, so their statements are planned once per session; each
-- reads a group through `idx_outbox_group`.

-- A row is inserted with its sequence number and, when nothing of its group is unfinished, as the
-- group's head (the store's INSERTs say so). A row that queues behind unfinished ones takes its
-- place here: it waits for in-flight settles of its group (a share lock on the group's unfinished
-- rows), supersedes the older rows of the same record that it replaces (an event asking for an
-- invoice is replaced only by another that asks for one), and becomes the head if the group has
-- none left. Skipped rows (inserted Completed) replace nothing.
CREATE FUNCTION outbox_enqueued() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM integration_outbox
     WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
       AND record_group = NEW.record_group AND id <> NEW.id
       AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
     ORDER BY seq, id
     FOR SHARE;
    UPDATE integration_outbox
           SET status = 'Superseded', superseded_by = NEW.id, head = false, scheduled_for = NULL,
               locked_by = NULL, locked_until = NULL
         WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
           AND record_group = NEW.record_group AND id <> NEW.id
           AND entity_type = NEW.entity_type AND entity_id = NEW.entity_id
           AND status IN ('Pending', 'Failed', 'Abandoned')
           AND (event_type NOT IN ('OrderPaid', 'OrderSyncRequested')
                OR NEW.event_type IN ('OrderPaid', 'OrderSyncRequested'));
    -- The head, when the group has none (a new row queues behind an existing one).
    UPDATE integration_outbox SET head = true
     WHERE id = (SELECT id FROM integration_outbox
                  WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                    AND record_group = NEW.record_group
                    AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
                  ORDER BY seq, id LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM integration_outbox
                        WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
                          AND record_group = NEW.record_group AND head);
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_enqueued AFTER INSERT ON integration_outbox
    FOR EACH ROW WHEN (NEW.target_system IS NOT NULL AND NEW.status = 'Pending' AND NOT NEW.head)
    EXECUTE FUNCTION outbox_enqueued();

-- Heads that finish hand their groups' heads on, set-based for a whole settle: each of their
-- groups' first unfinished row (one index probe per group) takes it. Every statement that
-- finishes a row clears its flag itself; only a head leaving the unfinished states changes a
-- group's head (new rows queue behind it; finished rows never come back). The transition tables' size is unknown to the
-- planner, so sequential scans are off here: a settle must never scan the table.
CREATE FUNCTION outbox_status_changed() RETURNS trigger LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                    WHERE o.head AND o.status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
                      AND n.status NOT IN ('Pending', 'Processing', 'Failed', 'Abandoned')) THEN
        RETURN NULL;
    END IF;
    UPDATE integration_outbox t SET head = true
      FROM (SELECT DISTINCT o.tenant_id, o.target_system, o.record_group
              FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE o.head AND o.target_system IS NOT NULL
               AND n.status NOT IN ('Pending', 'Processing', 'Failed', 'Abandoned')) g
      CROSS JOIN LATERAL (
            SELECT f.id FROM integration_outbox f
             WHERE f.tenant_id = g.tenant_id AND f.target_system = g.target_system
               AND f.record_group = g.record_group
               AND f.status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
             ORDER BY f.seq, f.id LIMIT 1) first
     WHERE t.id = first.id AND NOT t.head;
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_status_changed AFTER UPDATE ON integration_outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_status_changed();
