//! QuickBooks Online: the parts of the connector built so far — webhook verification and parsing.
//! (`shared/reference/quickbooks-online.md` § 7 is the source for every rule here.)

pub mod fault;
pub mod request_id;
pub mod webhook;
