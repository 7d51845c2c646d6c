//! Local look-alikes of the ERPs we connect to, built from `shared/reference/`. They are part of
//! the product: `serve --demo` starts them in-process, `erp-bridge sandbox` runs them alone, and
//! the tests and benchmarks talk to them over real HTTP exactly as the connectors talk to the
//! real services.

pub mod guard;
pub mod quickbooks;
