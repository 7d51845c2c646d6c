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
-- A group's unfinished rows in order (head upkeep).
CREATE INDEX idx_outbox_group ON integration_outbox (tenant_id, target_system, record_group, seq)
    WHERE status IN ('Pending', 'Processing', 'Failed', 'Abandoned');
-- Console listings and counts by status.
CREATE INDEX idx_outbox_status ON integration_outbox (tenant_id, status, created_at);

-- Gives the head of each listed group to its first unfinished row (and takes it from any other).
CREATE FUNCTION outbox_refresh_heads(groups JSONB) RETURNS void LANGUAGE sql VOLATILE AS $$
    WITH g AS (
        SELECT DISTINCT (x->>'t')::uuid AS tenant_id, x->>'p' AS target_system, x->>'g' AS record_group
        FROM jsonb_array_elements(groups) x),
    first AS (
        SELECT DISTINCT ON (o.tenant_id, o.target_system, o.record_group) o.id
        FROM integration_outbox o JOIN g USING (tenant_id, target_system, record_group)
        WHERE o.status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
        ORDER BY o.tenant_id, o.target_system, o.record_group, o.seq, o.id)
    UPDATE integration_outbox t SET head = (t.id IN (SELECT id FROM first))
    FROM g
    WHERE t.tenant_id = g.tenant_id AND t.target_system = g.target_system AND t.record_group = g.record_group
      AND (t.head OR t.status IN ('Pending', 'Processing', 'Failed', 'Abandoned'))
      AND t.head <> (t.id IN (SELECT id FROM first));
$$;

-- An enqueued row takes its place: it waits for in-flight settles of its group, replaces the
-- older unfinished rows of the same record that it covers (an event asking for an invoice is
-- replaced only by another that asks for one), and the group's head is refreshed. Skipped rows
-- (inserted Completed) replace nothing.
CREATE FUNCTION outbox_enqueued() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM integration_outbox
     WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
       AND record_group = NEW.record_group AND id <> NEW.id
       AND status IN ('Pending', 'Processing', 'Failed', 'Abandoned')
     FOR SHARE;
    IF NEW.status = 'Pending' THEN
        UPDATE integration_outbox
           SET status = 'Superseded', superseded_by = NEW.id, head = false, scheduled_for = NULL,
               locked_by = NULL, locked_until = NULL
         WHERE tenant_id = NEW.tenant_id AND target_system = NEW.target_system
           AND record_group = NEW.record_group AND entity_type = NEW.entity_type
           AND entity_id = NEW.entity_id AND id <> NEW.id
           AND status IN ('Pending', 'Failed', 'Abandoned')
           AND (event_type NOT IN ('OrderPaid', 'OrderSyncRequested')
                OR NEW.event_type IN ('OrderPaid', 'OrderSyncRequested'));
    END IF;
    PERFORM outbox_refresh_heads(jsonb_build_array(
        jsonb_build_object('t', NEW.tenant_id, 'p', NEW.target_system, 'g', NEW.record_group)));
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_enqueued AFTER INSERT ON integration_outbox
    FOR EACH ROW WHEN (NEW.target_system IS NOT NULL) EXECUTE FUNCTION outbox_enqueued();

-- Rows that finish (or come back) hand their groups' heads on, set-based for a whole settle.
CREATE FUNCTION outbox_status_changed() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    groups JSONB;
BEGIN
    SELECT jsonb_agg(DISTINCT jsonb_build_object('t', n.tenant_id, 'p', n.target_system, 'g', n.record_group))
      INTO groups
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.target_system IS NOT NULL
       AND (o.status IN ('Pending', 'Processing', 'Failed', 'Abandoned'))
           <> (n.status IN ('Pending', 'Processing', 'Failed', 'Abandoned'));
    IF groups IS NOT NULL THEN
        PERFORM outbox_refresh_heads(groups);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_status_changed AFTER UPDATE ON integration_outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_status_changed();
