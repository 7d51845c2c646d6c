//! NetSuite (SuiteTalk REST) — issue 11, in progress. What is here so far: the account id and
//! the names NetSuite derives from it ([`account`]), token-based authentication's request
//! signing and its verification as NetSuite does it ([`tba`], checked against Oracle's published
//! example), and machine-to-machine client assertions ([`m2m`]). The facts followed are in
//! `shared/reference/netsuite.md`.

pub mod account;
pub mod m2m;
pub mod tba;
