//! A NetSuite account id and the two spellings NetSuite derives from it (reference § 1a, § 2):
//! the OAuth realm keeps NetSuite's own form — uppercase, underscores (`1234567_SB1`; a lowercase
//! realm is refused as an invalid login) — and the account-specific host uses it lowercase with
//! hyphens (`1234567-sb1.suitetalk.api.netsuite.com`). Oracle advises reading the host from the
//! account's Company URLs, so the host stays overridable where the client is configured.

use std::fmt;
use std::str::FromStr;

/// An account id in NetSuite's canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountId(String);

/// Why an account id was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct BadAccountId(String);

impl FromStr for AccountId {
    type Err = BadAccountId;

    /// Takes an id as people paste it — `1234567`, `1234567_SB1`, `1234567-sb1`, `TSTDRV1234567`
    /// — and keeps NetSuite's form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(BadAccountId(
                "The account id is required (Setup > Company > Company Information > Account ID)."
                    .into(),
            ));
        }
        if s.len() > 40
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || !s.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !s.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(BadAccountId(format!(
                "{s:?} is not a NetSuite account id: letters and digits, with _ or - before a sandbox suffix (e.g. 1234567 or 1234567_SB1)."
            )));
        }
        Ok(AccountId(s.replace('-', "_").to_ascii_uppercase()))
    }
}

impl AccountId {
    /// The OAuth realm: the id exactly as NetSuite shows it (`1234567_SB1`).
    pub fn realm(&self) -> &str {
        &self.0
    }

    /// The account-specific host label (`1234567-sb1`).
    pub fn host_label(&self) -> String {
        self.0.to_ascii_lowercase().replace('_', "-")
    }

    /// The SuiteTalk base URL every library derives (`https://1234567-sb1.suitetalk.api.netsuite.com`).
    pub fn default_base_url(&self) -> String {
        format!("https://{}.suitetalk.api.netsuite.com", self.host_label())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_people_paste_them_keep_netsuite_s_form() {
        for (given, realm, host) in [
            ("1234567", "1234567", "1234567"),
            ("1234567_SB1", "1234567_SB1", "1234567-sb1"),
            (" 1234567-sb1 ", "1234567_SB1", "1234567-sb1"),
            ("tstdrv1234567", "TSTDRV1234567", "tstdrv1234567"),
        ] {
            let id: AccountId = given.parse().expect(given);
            assert_eq!((id.realm(), id.host_label().as_str()), (realm, host));
        }
        let id: AccountId = "5743578_SB1".parse().expect("id");
        assert_eq!(
            id.default_base_url(),
            "https://5743578-sb1.suitetalk.api.netsuite.com"
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for bad in [
            "",
            "   ",
            "12 34",
            "1234567_",
            "_SB1",
            "acme.netsuite.com",
            "1234567/SB1",
        ] {
            let e = bad.parse::<AccountId>().expect_err(bad);
            assert!(!e.0.is_empty());
        }
    }
}
