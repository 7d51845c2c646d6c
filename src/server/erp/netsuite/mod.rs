//! NetSuite (SuiteTalk REST) — issue 11, in progress. What is here so far: the outbound
//! connector ([`adapter`]: customers and paid orders as sales orders, by `eid:` upserts), the
//! connection's stored credentials ([`connector`]), the account id and
//! the names NetSuite derives from it ([`account`]), token-based authentication's request
//! signing and its verification as NetSuite does it ([`tba`], checked against Oracle's published
//! example), machine-to-machine client assertions ([`m2m`]), and the REST client that uses them
//! ([`client`]: records, upserts, SuiteQL, the concurrency limit), and the inbound side: changes
//! pulled by SuiteQL watermark ([`watermark`]) and applied from the inbox ([`inbound`]:
//! customer payments on invoices of our sales orders). The facts followed are in
//! `shared/reference/netsuite.md`.

pub mod account;
pub mod adapter;
mod batch;
pub mod client;
pub mod connector;
pub mod inbound;
pub mod m2m;
pub mod tba;
pub mod watermark;
