-- The QuickBooks account payments sent from here are deposited to (issue 12); NULL: the
-- company's Undeposited Funds, QuickBooks' own default.
ALTER TABLE integration_connections ADD COLUMN deposit_account_id TEXT;
