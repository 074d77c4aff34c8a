//! Keyset pagination: page sizes, directions and what a page says about its neighbours.

use crate::DomainError;

/// The page size when a caller names none.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Which way a page reads from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The `first` items after the cursor.
    Forward,
    /// The `last` items before the cursor.
    Backward,
}

/// A validated request for one page, Relay style.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest<C> {
    /// How many items at most.
    pub size: u32,
    /// Which way to read.
    pub direction: Direction,
    /// Where to start (exclusive); `None` starts at the beginning (forward) or the end (backward).
    pub cursor: Option<C>,
}

/// Checks a page size given as `field`: 0 to [`MAX_PAGE_SIZE`], refused otherwise, never silently clamped;
/// `default` when absent.
pub fn page_size(field: &str, size: Option<i32>, default: u32) -> Result<u32, DomainError> {
    size.map_or(Ok(default), |size| {
        u32::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_PAGE_SIZE)
            .ok_or_else(|| DomainError::invalid(field, format!("must be between 0 and {MAX_PAGE_SIZE}")))
    })
}

impl<C> PageRequest<C> {
    /// Validates Relay arguments: `first` with `after`, or `last` with `before`; sizes from 0 to
    /// [`MAX_PAGE_SIZE`]. Sizes out of range are refused, never silently clamped.
    pub fn new(
        first: Option<i32>,
        after: Option<C>,
        last: Option<i32>,
        before: Option<C>,
    ) -> Result<Self, DomainError> {
        match (first, last) {
            (Some(_), Some(_)) => Err(DomainError::invalid("last", "give `first` or `last`, not both")),
            (None, Some(last)) => {
                if after.is_some() {
                    return Err(DomainError::invalid("after", "use `before` with `last`"));
                }
                Ok(Self {
                    size: page_size("last", Some(last), DEFAULT_PAGE_SIZE)?,
                    direction: Direction::Backward,
                    cursor: before,
                })
            }
            (first, None) => {
                if before.is_some() {
                    return Err(DomainError::invalid("before", "use `after` with `first`"));
                }
                let size = page_size("first", first, DEFAULT_PAGE_SIZE)?;
                Ok(Self {
                    size,
                    direction: Direction::Forward,
                    cursor: after,
                })
            }
        }
    }
}

/// One page of items, in the list's order, with whether more lie on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the list's order whichever way the page was read.
    pub items: Vec<T>,
    /// More items follow the last one.
    pub has_next_page: bool,
    /// More items precede the first one.
    pub has_previous_page: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_the_first_twenty() {
        let request = PageRequest::<()>::new(None, None, None, None);
        assert_eq!(request.map(|r| (r.size, r.direction)), Ok((20, Direction::Forward)));
    }

    #[test]
    fn refuses_sizes_out_of_range_instead_of_clamping() {
        for (first, last, field) in [
            (Some(-1), None, "first"),
            (Some(1_000_000), None, "first"),
            (None, Some(101), "last"),
        ] {
            match PageRequest::<()>::new(first, None, last, None) {
                Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
        assert!(PageRequest::<()>::new(Some(100), None, None, None).is_ok());
    }

    #[test]
    fn refuses_mixed_directions() {
        assert!(PageRequest::new(Some(1), None, Some(1), None::<()>).is_err());
        assert!(PageRequest::new(Some(1), None, None, Some(())).is_err());
        assert!(PageRequest::new(None, Some(()), Some(1), None).is_err());
    }
}
