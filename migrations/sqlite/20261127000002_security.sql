-- Security hardening (issue 9): sign-in throttling by (account, source) and by source, refused
-- webhook POSTs counted per (provider, minute, outcome) instead of a row each, and indexes that
-- let retention prune receipts, inbox rows and audit events.

-- One row per throttled key: `key` is a hash of ("account", email, source) or ("source", source),
-- so typed-in emails are not kept in clear. `count` is failures in a row (account keys) or
-- attempts in the current window (source keys).
CREATE TABLE sign_in_throttle (
    key               TEXT PRIMARY KEY,
    count             INTEGER NOT NULL DEFAULT 0,
    window_started_at TEXT NOT NULL,
    blocked_until     TEXT,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX idx_sign_in_throttle_updated ON sign_in_throttle (updated_at);

CREATE TABLE integration_webhook_refusals (
    provider  TEXT NOT NULL,
    minute    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (provider, minute, outcome)
) STRICT;

CREATE INDEX idx_webhook_receipts_received ON integration_webhook_receipts (received_at);
CREATE INDEX idx_inbox_finished ON integration_inbox (received_at) WHERE status IN ('Completed', 'Skipped');
CREATE INDEX idx_audit_time ON audit_events (created_at);
