//! The QuickBooks connector of this process: the client plus what it needs from our side (the
//! database and the master-key cipher). The outbox adapter, the inbound processor and the
//! connect flow all go through it.

use super::client::QboClient;
use super::company::PrefsCache;
use crate::server::crypto::Cipher;
use crate::server::store::Db;

/// The provider name stored in our tables.
pub const PROVIDER: &str = "QuickBooks";

/// The connector. Cheap to clone.
#[derive(Clone, Debug)]
pub struct QuickBooks {
    /// Our database.
    pub db: Db,
    /// Seals and opens tokens.
    pub cipher: Cipher,
    /// Talks to Intuit (or the sandbox).
    pub client: QboClient,
    /// Identifies this process in single-flight claims.
    pub owner: String,
    /// Each company's preferences, as the pre-write checks need them.
    pub prefs: PrefsCache,
}

impl QuickBooks {
    /// A connector over `db` using `client`.
    pub fn new(db: Db, cipher: Cipher, client: QboClient) -> Self {
        QuickBooks {
            db,
            cipher,
            client,
            owner: crate::server::erp::inbound::claim_owner(),
            prefs: PrefsCache::default(),
        }
    }
}
