//! Paging of list routes: `page` ≥ 1 and 1 ≤ `per_page` ≤ 200 (default 50). Any `page` the
//! OpenAPI document allows is answered: pages past [`MAX_PAGE`] read as that page, and the offset
//! cannot overflow.

/// The highest page number honoured; larger ones read as this one (an empty page, in practice).
pub const MAX_PAGE: i64 = 1_000_000;

/// The most rows per page.
pub const MAX_PER_PAGE: i64 = 200;

/// A page request after clamping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl Paging {
    /// Clamps what the caller asked for.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).clamp(1, MAX_PAGE),
            per_page: per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE),
        }
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_page_number_gives_a_bounded_offset() {
        assert_eq!(
            Paging::new(None, None),
            Paging {
                page: 1,
                per_page: 50
            }
        );
        assert_eq!(Paging::new(Some(3), Some(20)).offset(), 40);
        let far = Paging::new(Some(i64::MAX), Some(i64::MAX));
        assert_eq!(
            far,
            Paging {
                page: MAX_PAGE,
                per_page: MAX_PER_PAGE
            }
        );
        assert_eq!(far.offset(), (MAX_PAGE - 1) * MAX_PER_PAGE);
        assert_eq!(
            Paging::new(Some(i64::MIN), Some(0)),
            Paging {
                page: 1,
                per_page: 1
            }
        );
    }
}
